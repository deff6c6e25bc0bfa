package interop;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.DFSConfigKeys;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.security.token.delegation.DelegationTokenIdentifier;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.minikdc.MiniKdc;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.delegation.AbstractDelegationTokenSecretManager;

/**
 * The secured real stack of the interop run, in one JVM: a Kerberos KDC (Hadoop's MiniKdc) and two
 * Kerberized MiniDFSClusters (one NameNode and one DataNode each): SPNEGO on WebHDFS, block access
 * tokens, short delegation-token lifetimes. {@code shdfs1} serves WebHDFS over plain HTTP,
 * {@code shdfs2} is {@code dfs.http.policy=HTTPS_ONLY} with the key store the harness made (a test
 * CA). UGI's security mode is per JVM, which is why both clusters live here and the simple-auth
 * clusters of the main scenario elsewhere.
 *
 * <p>Args: baseDir readyFile sslDir renewIntervalMs maxLifetimeMs. sslDir holds
 * {@code server.p12} (password {@code changeit}) and is on this JVM's classpath, where Hadoop looks
 * for {@code ssl-server.xml}, which this class writes there.
 *
 * <p>Principals (realm EXAMPLE.COM): {@code hdfs/localhost} and {@code HTTP/localhost} (services,
 * hdfs.keytab), {@code replicator} (the daemon, replicator.keytab), {@code flink} (job, checker and
 * restorer, flink.keytab). The ready file (JSON) names the KDC's krb5.conf, the keytabs and each
 * cluster's ports.
 *
 * <p>stdin commands, one JSON line answered each: {@code tokens <cluster> <user>} (the URL strings of
 * the delegation tokens the NameNode holds for that user, so the harness can cancel them with a real
 * CANCELDELEGATIONTOKEN), {@code stop-cluster <cluster>} (shut that cluster down, for a restore from
 * the other only), {@code stop}.
 */
public final class SecureCluster {
  static final String REALM = "EXAMPLE.COM";

  public static void main(String[] args) throws Exception {
    Path base = Path.of(args[0]).toAbsolutePath();
    Path ready = Path.of(args[1]);
    Path sslDir = Path.of(args[2]).toAbsolutePath();
    long renewMs = Long.parseLong(args[3]);
    long maxMs = Long.parseLong(args[4]);

    Properties kdcConf = MiniKdc.createConf();
    kdcConf.setProperty(MiniKdc.KDC_BIND_ADDRESS, "localhost");
    File kdcDir = base.resolve("kdc").toFile();
    kdcDir.mkdirs();
    MiniKdc kdc = new MiniKdc(kdcConf, kdcDir);
    kdc.start();
    File hdfsKeytab = base.resolve("hdfs.keytab").toFile();
    File replicatorKeytab = base.resolve("replicator.keytab").toFile();
    File flinkKeytab = base.resolve("flink.keytab").toFile();
    kdc.createPrincipal(hdfsKeytab, "hdfs/localhost", "HTTP/localhost");
    kdc.createPrincipal(replicatorKeytab, "replicator");
    kdc.createPrincipal(flinkKeytab, "flink");
    String hdfsPrincipal = "hdfs/localhost@" + kdc.getRealm();
    String httpPrincipal = "HTTP/localhost@" + kdc.getRealm();

    Files.writeString(sslDir.resolve("ssl-server.xml"), "<?xml version=\"1.0\"?>\n<configuration>\n"
        + prop("ssl.server.keystore.location", sslDir.resolve("server.p12").toString())
        + prop("ssl.server.keystore.type", "pkcs12")
        + prop("ssl.server.keystore.password", "changeit")
        + prop("ssl.server.keystore.keypassword", "changeit")
        + "</configuration>\n");

    Configuration login = secureConf(base, "login", hdfsPrincipal, httpPrincipal, hdfsKeytab, renewMs, maxMs, false);
    UserGroupInformation.setConfiguration(login);
    UserGroupInformation.loginUserFromKeytab(hdfsPrincipal, hdfsKeytab.getAbsolutePath());

    MiniDFSCluster c1 = start(secureConf(base, "shdfs1", hdfsPrincipal, httpPrincipal, hdfsKeytab, renewMs, maxMs, false));
    MiniDFSCluster c2 = start(secureConf(base, "shdfs2", hdfsPrincipal, httpPrincipal, hdfsKeytab, renewMs, maxMs, true));
    Map<String, MiniDFSCluster> clusters = Map.of("shdfs1", c1, "shdfs2", c2);

    String json = "{\"realm\":\"" + kdc.getRealm() + "\",\"krb5conf\":\"" + kdc.getKrb5conf().getAbsolutePath() + "\""
        + ",\"kdcPort\":" + kdc.getPort()
        + ",\"hdfsPrincipal\":\"" + hdfsPrincipal + "\",\"httpPrincipal\":\"" + httpPrincipal + "\""
        + ",\"keytabs\":{\"replicator\":\"" + replicatorKeytab + "\",\"flink\":\"" + flinkKeytab + "\"}"
        + ",\"clusters\":{\"shdfs1\":" + ports(c1, false) + ",\"shdfs2\":" + ports(c2, true) + "}"
        + ",\"renewIntervalMs\":" + renewMs + ",\"maxLifetimeMs\":" + maxMs
        + ",\"pid\":" + ProcessHandle.current().pid() + "}";
    Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
    Files.writeString(tmp, json);
    Files.move(tmp, ready, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.out.println("{\"ready\":true}");
    System.out.flush();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    try {
      while ((line = in.readLine()) != null) {
        String[] p = line.trim().split("\\s+");
        if (p[0].isEmpty()) continue;
        if (p[0].equals("stop")) break;
        String answer;
        try {
          String cmd = "{\"cmd\":\"" + line.trim() + "\",";
          if (p[0].equals("tokens")) {
            answer = cmd + "\"ok\":true,\"tokens\":" + tokensOf(clusters.get(p[1]), p[2]) + "}";
          } else if (p[0].equals("stop-cluster")) {
            clusters.get(p[1]).shutdown();
            answer = cmd + "\"ok\":true}";
          } else {
            answer = cmd + "\"ok\":false,\"error\":\"unknown command\"}";
          }
        } catch (Throwable t) {
          t.printStackTrace();
          answer = "{\"cmd\":\"" + line.trim() + "\",\"ok\":false,\"error\":\"" + String.valueOf(t).replace("\"", "'").replaceAll("\\p{Cntrl}", " ") + "\"}";
        }
        System.out.println(answer);
        System.out.flush();
      }
    } finally {
      for (MiniDFSCluster c : clusters.values()) c.shutdown();
      kdc.stop();
      System.out.println("{\"stopped\":true}");
      System.out.flush();
      System.exit(0);
    }
  }

  private static String prop(String k, String v) {
    return "<property><name>" + k + "</name><value>" + v + "</value></property>\n";
  }

  /** The secure-cluster recipe of Hadoop's SaslDataTransferTestCase, without SASL on data transfer. */
  private static Configuration secureConf(Path base, String name, String hdfsPrincipal, String httpPrincipal, File keytab,
      long renewMs, long maxMs, boolean httpsOnly) {
    Configuration conf = Cluster.baseConf(base.resolve(name));
    conf.set("hadoop.security.authentication", "kerberos");
    conf.setBoolean("hadoop.security.authorization", true);
    conf.set(DFSConfigKeys.DFS_NAMENODE_KERBEROS_PRINCIPAL_KEY, hdfsPrincipal);
    conf.set(DFSConfigKeys.DFS_NAMENODE_KEYTAB_FILE_KEY, keytab.getAbsolutePath());
    conf.set(DFSConfigKeys.DFS_DATANODE_KERBEROS_PRINCIPAL_KEY, hdfsPrincipal);
    conf.set(DFSConfigKeys.DFS_DATANODE_KEYTAB_FILE_KEY, keytab.getAbsolutePath());
    conf.set(DFSConfigKeys.DFS_WEB_AUTHENTICATION_KERBEROS_PRINCIPAL_KEY, httpPrincipal);
    conf.set(DFSConfigKeys.DFS_WEB_AUTHENTICATION_KERBEROS_KEYTAB_KEY, keytab.getAbsolutePath());
    // Since Hadoop 3.3 WebHDFS is guarded by AuthFilterInitializer, configured by hadoop.http.authentication.*.
    conf.set("hadoop.http.authentication.type", "kerberos");
    conf.set("hadoop.http.authentication.kerberos.principal", httpPrincipal);
    conf.set("hadoop.http.authentication.kerberos.keytab", keytab.getAbsolutePath());
    conf.setBoolean(DFSConfigKeys.DFS_BLOCK_ACCESS_TOKEN_ENABLE_KEY, true);
    // Without privileged ports or SASL on data transfer a secure DataNode refuses to start; this is
    // Hadoop's switch for tests (no "dfs." prefix).
    conf.setBoolean("ignore.secure.ports.for.testing", true);
    conf.setLong(DFSConfigKeys.DFS_NAMENODE_DELEGATION_TOKEN_RENEW_INTERVAL_KEY, renewMs);
    conf.setLong(DFSConfigKeys.DFS_NAMENODE_DELEGATION_TOKEN_MAX_LIFETIME_KEY, maxMs);
    conf.set(DFSConfigKeys.DFS_HTTP_POLICY_KEY, httpsOnly ? "HTTPS_ONLY" : "HTTP_ONLY");
    conf.set(DFSConfigKeys.DFS_NAMENODE_HTTPS_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTPS_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTP_ADDRESS_KEY, "127.0.0.1:0");
    conf.set(DFSConfigKeys.DFS_SERVER_HTTPS_KEYSTORE_RESOURCE_KEY, "ssl-server.xml");
    conf.set("hadoop.ssl.server.conf", "ssl-server.xml");
    Cluster.applyHarnessConf(conf);
    return conf;
  }

  private static MiniDFSCluster start(Configuration conf) throws Exception {
    MiniDFSCluster c = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    c.waitActive();
    return c;
  }

  private static String ports(MiniDFSCluster c, boolean https) {
    var nn = c.getNameNode();
    var dn = c.getDataNodes().get(0);
    return "{\"rpc\":" + nn.getNameNodeAddress().getPort() + ",\"scheme\":\"" + (https ? "https" : "http") + "\""
        + ",\"http\":" + (https ? nn.getHttpsAddress().getPort() : nn.getHttpAddress().getPort())
        + ",\"dnHttp\":" + (https ? dn.getInfoSecurePort() : dn.getInfoPort()) + "}";
  }

  /** URL strings of the live delegation tokens owned by {@code user} (its short name), as a JSON array. */
  @SuppressWarnings("unchecked")
  private static String tokensOf(MiniDFSCluster c, String user) throws Exception {
    var getter = c.getNamesystem().getClass().getDeclaredMethod("getDelegationTokenSecretManager");
    getter.setAccessible(true);
    AbstractDelegationTokenSecretManager<DelegationTokenIdentifier> sm =
        (AbstractDelegationTokenSecretManager<DelegationTokenIdentifier>) getter.invoke(c.getNamesystem());
    var password = AbstractDelegationTokenSecretManager.DelegationTokenInformation.class.getDeclaredMethod("getPassword");
    password.setAccessible(true);
    Field f = AbstractDelegationTokenSecretManager.class.getDeclaredField("currentTokens");
    f.setAccessible(true);
    Map<DelegationTokenIdentifier, AbstractDelegationTokenSecretManager.DelegationTokenInformation> current =
        (Map<DelegationTokenIdentifier, AbstractDelegationTokenSecretManager.DelegationTokenInformation>) f.get(sm);
    List<String> out = new ArrayList<>();
    synchronized (sm) {
      for (var e : current.entrySet()) {
        if (!e.getKey().getUser().getShortUserName().equals(user)) continue;
        Token<DelegationTokenIdentifier> t = new Token<>(e.getKey().getBytes(), (byte[]) password.invoke(e.getValue()),
            DelegationTokenIdentifier.HDFS_DELEGATION_KIND, new Text(""));
        out.add("\"" + t.encodeToUrlString() + "\"");
      }
    }
    return "[" + String.join(",", out) + "]";
  }
}
