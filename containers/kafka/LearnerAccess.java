// Gives learners their own corner of a room's shared Kafka, in one JVM:
// for each line `name password` on standard input, a SCRAM-SHA-512 login
// for User:name and ACLs that allow everything on the topics, consumer
// groups and transactional ids whose names start with `name_` (prefixed
// resource patterns), and nothing else. Run by datalab (crates/services,
// shared.rs) with Java's source launcher and Kafka's own client jars:
//   java -cp <kafka jars> LearnerAccess.java <admin client properties>
// Prints `ok name` per learner; exits 1 with the broker's error otherwise.

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class LearnerAccess {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileReader r = new FileReader(args[0])) {
            props.load(r);
        }
        List<String[]> learners = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] parts = line.trim().split(" ", 2);
            if (parts.length == 2) {
                learners.add(parts);
            }
        }
        try (Admin admin = Admin.create(props)) {
            List<UserScramCredentialAlteration> logins = new ArrayList<>();
            List<AclBinding> acls = new ArrayList<>();
            for (String[] l : learners) {
                ScramCredentialInfo info = new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192);
                logins.add(new UserScramCredentialUpsertion(l[0], info, l[1]));
                acls.addAll(corner(l[0]));
            }
            admin.alterUserScramCredentials(logins).all().get();
            admin.createAcls(acls).all().get();
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.err.println("kafka refused: " + cause);
            System.exit(1);
        }
        for (String[] l : learners) {
            System.out.println("ok " + l[0]);
        }
    }

    /// Everything on the learner's prefixed topics, groups and transactional ids.
    static List<AclBinding> corner(String name) {
        List<AclBinding> acls = new ArrayList<>();
        AccessControlEntry all = new AccessControlEntry("User:" + name, "*", AclOperation.ALL, AclPermissionType.ALLOW);
        for (ResourceType t : new ResourceType[] {ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID}) {
            acls.add(new AclBinding(new ResourcePattern(t, name + "_", PatternType.PREFIXED), all));
        }
        return acls;
    }
}
