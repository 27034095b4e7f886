#!/bin/bash
# Entry point of datalab/kafka: the official apache/kafka image's contract.
# Every KAFKA_<NAME> variable becomes a server.properties line (NAME lowercased,
# `_` -> `.`, `__` -> `_`, `___` -> `-`), except the JVM settings KAFKA_HEAP_OPTS,
# KAFKA_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS, KAFKA_JMX_OPTS,
# KAFKA_GC_LOG_OPTS. With no KAFKA_ property at all, a single combined
# broker+controller on 9092 is configured. Storage is formatted with CLUSTER_ID
# on first start (kept across restarts of the container).
set -euo pipefail
CONF=/opt/kafka/config/server.properties
CLUSTER_ID="${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}"

props=""
for var in $(compgen -e); do
    case "$var" in
        KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_OPTS|KAFKA_GC_LOG_OPTS|KAFKA_VERSION) continue ;;
        KAFKA_*) ;;
        *) continue ;;
    esac
    name=$(printf '%s' "${var#KAFKA_}" | tr '[:upper:]' '[:lower:]' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
    props+="$name=${!var}"$'\n'
done

if [ -z "$props" ]; then
    props="node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.voters=1@localhost:9093
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
"
fi
case "$props" in *log.dirs=*) ;; *) props+="log.dirs=/var/lib/kafka/data"$'\n' ;; esac

printf '# generated from KAFKA_* by /etc/kafka/docker/run\n%s' "$props" >"$CONF"

CP='/opt/kafka/libs/*'
LOG4J="-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties"
java -Xmx256m -XX:TieredStopAtLevel=1 $LOG4J -cp "$CP" kafka.tools.StorageTool \
    format --ignore-formatted -t "$CLUSTER_ID" -c "$CONF"

# shellcheck disable=SC2086 # the *_OPTS are word lists
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} \
    ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true} \
    ${KAFKA_OPTS:-} $LOG4J -cp "$CP" kafka.Kafka "$CONF"
