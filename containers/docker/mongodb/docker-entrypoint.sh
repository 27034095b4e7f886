#!/bin/bash
# Entry point of datalab/mongodb: FerretDB on 0.0.0.0:27017 with its data in
# /data/db. Prints "Waiting for connections" (the official mongod's readiness
# line) once the server accepts TCP connections, so the docker provider waits
# for both images the same way.
set -euo pipefail
/usr/local/bin/ferretdb -listen-addr 0.0.0.0:27017 -sqlite-url file:/data/db/ &
server=$!
trap 'kill -TERM $server 2>/dev/null' TERM INT
for _ in $(seq 1 300); do
    if (exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null; then
        echo '{"msg":"Waiting for connections","attr":{"port":27017,"server":"FerretDB"}}'
        break
    fi
    kill -0 $server 2>/dev/null || break
    sleep 0.1
done
wait $server
