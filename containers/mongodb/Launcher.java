// datalab's MongoDB stand-in (no package registry reachable here ships a real
// mongod): mongo-java-server with its H2 MVStore backend, one data file.
// Kept in one place for both providers: the native provider compiles it with
// the JDK's javac into ~/.cache/datalab (keyed by a digest of this source) and
// runs it; `datalab services build-images` puts the same class into the
// datalab/mongodb image.
//
//   java -cp <launcher dir>:<jars> Launcher HOST PORT DATA_FILE
//
// It reports MongoDB 5.0 with wire version 13: mongo-java-server's own
// MONGO_5_0 says wire 8, and drivers that need wire >= 9 (the Rust driver 3.x,
// pymongo 4.x) refuse it. When it accepts connections it prints mongod's
// readiness line "Waiting for connections", which the docker provider waits for.

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.util.List;

public final class Launcher {
    private static final MongoVersion VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: java Launcher HOST PORT DATA_FILE");
            System.exit(2);
        }
        int port = Integer.parseInt(args[1]);
        H2Backend backend = new H2Backend(args[2]);
        backend.version(VERSION);
        MongoServer server = new MongoServer(backend);
        // SIGTERM: close the backend, which commits the MVStore to its file.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        server.bind(args[0], port);
        System.out.println("{\"msg\":\"Waiting for connections\",\"attr\":{\"port\":" + port
                + ",\"server\":\"mongo-java-server\"}}");
    }
}
