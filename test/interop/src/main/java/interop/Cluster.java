package interop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.DFSConfigKeys;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.MiniDFSNNTopology;

/**
 * One real HDFS cluster: an HA MiniDFSCluster (two NameNodes, one nameservice, one DataNode) with
 * WebHDFS on 127.0.0.1 at fixed ports.
 *
 * <p>Args: nameservice baseDir readyFile rpc1 http1 rpc2 http2 dnHttp [format=true|false]
 *
 * <p>Writes readyFile (JSON) when up. Reads control commands, one per line, on stdin and answers
 * one JSON line on stdout per command: {@code failover}, {@code transition <i>} (make NN i active),
 * {@code kill-nn <i>} (shut NN i down and make the other active), {@code restart-nn <i>},
 * {@code restart-dn}, {@code down <seconds>} (every NameNode and the DataNode stopped, then
 * restarted), {@code state}, {@code stop}. End of stdin stops the cluster too.
 */
public final class Cluster {
  private static MiniDFSCluster cluster;
  private static String ns;
  private static int[] rpc;
  private static int[] http;
  private static int dnHttp;
  private static int active = 0;
  private static final boolean[] nnUp = {true, true};

  public static void main(String[] args) throws Exception {
    ns = args[0];
    Path base = Path.of(args[1]);
    Path ready = Path.of(args[2]);
    rpc = new int[] {Integer.parseInt(args[3]), Integer.parseInt(args[5])};
    http = new int[] {Integer.parseInt(args[4]), Integer.parseInt(args[6])};
    dnHttp = Integer.parseInt(args[7]);
    boolean format = args.length < 9 || Boolean.parseBoolean(args[8]);

    Configuration conf = baseConf(base.toAbsolutePath());
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTP_ADDRESS_KEY, "127.0.0.1:" + dnHttp);
    conf.set("hadoop.security.authentication", "simple");
    // Let the standby catch up quickly, so a failover sees the latest namespace.
    conf.setInt(DFSConfigKeys.DFS_HA_TAILEDITS_PERIOD_KEY, 1);
    conf.setInt("dfs.ha.log-roll.period", 10);
    // The DataNode's WebHDFS handler resolves the redirect's namenoderpcaddress=<nameservice> with
    // its own configuration: without the proxy provider it answers 400 UnknownHostException.
    conf.set("dfs.client.failover.proxy.provider." + ns,
        "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider");
    applyHarnessConf(conf);

    MiniDFSNNTopology topo = new MiniDFSNNTopology()
        .addNameservice(new MiniDFSNNTopology.NSConf(ns)
            .addNN(new MiniDFSNNTopology.NNConf("nn1").setIpcPort(rpc[0]).setHttpPort(http[0]))
            .addNN(new MiniDFSNNTopology.NNConf("nn2").setIpcPort(rpc[1]).setHttpPort(http[1])));
    cluster = new MiniDFSCluster.Builder(conf)
        .nnTopology(topo)
        .numDataNodes(1)
        .checkDataNodeAddrConfig(true) // keep the DataNode's HTTP port (also across restarts)
        .format(format)
        .manageNameDfsDirs(true)
        .manageDataDfsDirs(true)
        .build();
    cluster.waitActive();
    cluster.transitionToActive(0);
    active = 0;
    cluster.waitActive();
    writeReady(ready);
    System.out.println("{\"ready\":true}");
    System.out.flush();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    try {
      while ((line = in.readLine()) != null) {
        line = line.trim();
        if (line.isEmpty()) continue;
        String[] p = line.split("\\s+");
        long t0 = System.currentTimeMillis();
        String err = null;
        try {
          if (p[0].equals("stop")) break;
          handle(p);
        } catch (Throwable t) {
          err = String.valueOf(t);
          t.printStackTrace();
        }
        System.out.println("{\"cmd\":\"" + line + "\",\"ok\":" + (err == null) + ",\"active\":" + active
            + ",\"ms\":" + (System.currentTimeMillis() - t0)
            + (err == null ? "" : ",\"error\":\"" + err.replace("\\", "/").replace("\"", "'").replaceAll("\\p{Cntrl}", " ") + "\"") + "}");
        System.out.flush();
      }
    } finally {
      cluster.shutdown();
      System.out.println("{\"stopped\":true}");
      System.out.flush();
      System.exit(0);
    }
  }

  private static void handle(String[] p) throws Exception {
    switch (p[0]) {
      case "failover": {
        int other = 1 - active;
        if (!nnUp[other]) throw new IllegalStateException("nn " + other + " is down");
        cluster.transitionToStandby(active);
        cluster.transitionToActive(other);
        active = other;
        break;
      }
      case "transition": {
        int i = Integer.parseInt(p[1]);
        if (i != active) {
          if (nnUp[active]) cluster.transitionToStandby(active);
          cluster.transitionToActive(i);
          active = i;
        }
        break;
      }
      case "kill-nn": {
        int i = Integer.parseInt(p[1]);
        cluster.shutdownNameNode(i);
        nnUp[i] = false;
        if (i == active) {
          cluster.transitionToActive(1 - i);
          active = 1 - i;
        }
        break;
      }
      case "restart-nn": {
        int i = Integer.parseInt(p[1]);
        cluster.restartNameNode(i, false);
        nnUp[i] = true;
        // A restarted HA NameNode comes back as standby.
        break;
      }
      case "restart-dn": {
        MiniDFSCluster.DataNodeProperties dn = cluster.stopDataNode(0);
        Thread.sleep(1000);
        cluster.restartDataNode(dn, true);
        cluster.waitActive();
        break;
      }
      case "down": {
        long ms = (long) (Double.parseDouble(p[1]) * 1000);
        MiniDFSCluster.DataNodeProperties dn = cluster.stopDataNode(0);
        for (int i = 0; i < 2; i++) {
          if (nnUp[i]) cluster.shutdownNameNode(i);
          nnUp[i] = false;
        }
        Thread.sleep(ms);
        for (int i = 0; i < 2; i++) {
          cluster.restartNameNode(i, false);
          nnUp[i] = true;
        }
        cluster.transitionToActive(0);
        active = 0;
        cluster.restartDataNode(dn, true);
        cluster.waitActive();
        break;
      }
      case "state":
        break;
      default:
        throw new IllegalArgumentException("unknown command " + p[0]);
    }
  }

  private static void writeReady(Path ready) throws Exception {
    List<String> dns = new ArrayList<>();
    for (var dn : cluster.getDataNodes()) dns.add(String.valueOf(dn.getInfoPort()));
    String json = "{\"nameservice\":\"" + ns + "\",\"pid\":" + ProcessHandle.current().pid()
        + ",\"namenodes\":[{\"rpc\":" + rpc[0] + ",\"http\":" + http[0] + "},{\"rpc\":" + rpc[1]
        + ",\"http\":" + http[1] + "}],\"datanodes\":[{\"http\":" + String.join("},{\"http\":", dns) + "}]}";
    Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
    Files.writeString(tmp, json);
    Files.move(tmp, ready, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * What every test cluster of the harness shares, secure or not: its base directory, one replica, no
   * permission checks, any block size, DataNode ports chosen by the system, 1 s heartbeats, no safe-mode
   * extension.
   */
  static Configuration baseConf(Path basedir) {
    Configuration conf = new HdfsConfiguration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, basedir.toString());
    conf.setInt(DFSConfigKeys.DFS_REPLICATION_KEY, 1);
    conf.setBoolean(DFSConfigKeys.DFS_PERMISSIONS_ENABLED_KEY, false);
    conf.setLong(DFSConfigKeys.DFS_NAMENODE_MIN_BLOCK_SIZE_KEY, 0);
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.setInt(DFSConfigKeys.DFS_HEARTBEAT_INTERVAL_KEY, 1);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    return conf;
  }

  /** Extra keys from the harness (-Dinterop.hdfs.conf=k=v;k=v), applied last. */
  static void applyHarnessConf(Configuration conf) {
    for (String kv : System.getProperty("interop.hdfs.conf", "").split(";")) {
      int eq = kv.indexOf('=');
      if (eq > 0) conf.set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
  }
}
