#!/bin/bash
# Entry point of datalab/cassandra: the official cassandra image's contract.
# Writes /etc/cassandra/cassandra.yaml from CASSANDRA_* (listen address = the
# container's own IP unless set; clients on 0.0.0.0:9042), then runs
# CassandraDaemon in the foreground with MAX_HEAP_SIZE / HEAP_NEWSIZE.
set -euo pipefail
own_ip=$(hostname -i 2>/dev/null | awk '{print $1}')
[ -n "$own_ip" ] || own_ip=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')
LISTEN="${CASSANDRA_LISTEN_ADDRESS:-auto}"; [ "$LISTEN" = auto ] && LISTEN="$own_ip"
BROADCAST="${CASSANDRA_BROADCAST_ADDRESS:-auto}"; [ "$BROADCAST" = auto ] && BROADCAST="$LISTEN"
RPC="${CASSANDRA_RPC_ADDRESS:-0.0.0.0}"
BROADCAST_RPC="${CASSANDRA_BROADCAST_RPC_ADDRESS:-$BROADCAST}"
SEEDS="${CASSANDRA_SEEDS:-$BROADCAST}"
SNITCH="${CASSANDRA_ENDPOINT_SNITCH:-SimpleSnitch}"
D=/var/lib/cassandra

cat >/etc/cassandra/cassandra.yaml <<YAML
# generated from CASSANDRA_* by docker-entrypoint.sh
cluster_name: '${CASSANDRA_CLUSTER_NAME:-Test Cluster}'
num_tokens: ${CASSANDRA_NUM_TOKENS:-16}
allocate_tokens_for_local_replication_factor: 3
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
data_file_directories: ["$D/data"]
commitlog_directory: "$D/commitlog"
saved_caches_directory: "$D/saved_caches"
hints_directory: "$D/hints"
cdc_raw_directory: "$D/cdc_raw"
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$SEEDS"
listen_address: $LISTEN
broadcast_address: $BROADCAST
rpc_address: $RPC
broadcast_rpc_address: $BROADCAST_RPC
storage_port: 7000
native_transport_port: 9042
start_native_transport: true
endpoint_snitch: $SNITCH
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
memtable_allocation_type: heap_buffers
disk_access_mode: mmap_index_only
materialized_views_enabled: true
sasi_indexes_enabled: true
YAML
printf 'dc=%s\nrack=%s\n' "${CASSANDRA_DC:-datacenter1}" "${CASSANDRA_RACK:-rack1}" \
    >/etc/cassandra/cassandra-rackdc.properties

HEAP="${MAX_HEAP_SIZE:-1G}"
NEW="${HEAP_NEWSIZE:-200M}"
# What Cassandra's jvm17-server.options sets on JDK 17.
JDK17_OPTS=(
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports=java.sql/java.sql=ALL-UNNAMED
    --add-opens=java.base/java.lang.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.math=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
)
# shellcheck disable=SC2086 # JVM_OPTS / JVM_EXTRA_OPTS are word lists
exec java "-Xms$HEAP" "-Xmx$HEAP" "-Xmn$NEW" -Xss512k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    -Djava.net.preferIPv4Stack=true -Dcassandra-foreground=yes \
    "${JDK17_OPTS[@]}" ${JVM_OPTS:-} ${JVM_EXTRA_OPTS:-} \
    -Dcassandra.config=file:///etc/cassandra/cassandra.yaml \
    -Dcassandra.storagedir=$D -Dcassandra.logdir=/var/log/cassandra \
    -Dlogback.configurationFile=/etc/cassandra/logback.xml \
    -cp '/etc/cassandra:/opt/cassandra/lib/*' org.apache.cassandra.service.CassandraDaemon
