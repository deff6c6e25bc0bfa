package interop;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.runtime.security.SecurityConfiguration;
import org.apache.flink.runtime.security.SecurityUtils;

/**
 * Runs another interop main (Job, Check) logged in to Kerberos the way Flink's own entry points do:
 * {@code security.kerberos.login.principal}/{@code keytab} installed through Flink's
 * SecurityUtils (its Hadoop module logs UGI in from the keytab, with the Hadoop configuration of
 * HADOOP_CONF_DIR), then the main runs in the installed security context.
 *
 * <p>Args: principal keytab mainClass args... System properties {@code interop.flink.<key>} are
 * passed on to the jobs' Flink configuration by Job (e.g. delegation tokens off in a local
 * MiniCluster, which has no resource manager to hand them to).
 */
public final class Kerberized {
  public static void main(String[] args) throws Exception {
    Configuration fc = new Configuration();
    fc.set(SecurityOptions.KERBEROS_LOGIN_PRINCIPAL, args[0]);
    fc.set(SecurityOptions.KERBEROS_LOGIN_KEYTAB, args[1]);
    fc.set(SecurityOptions.KERBEROS_LOGIN_USETICKETCACHE, false);
    SecurityUtils.install(new SecurityConfiguration(fc));
    String[] rest = java.util.Arrays.copyOfRange(args, 3, args.length);
    Class<?> main = Class.forName(args[2]);
    SecurityUtils.getInstalledContext().runSecured(() -> {
      main.getMethod("main", String[].class).invoke(null, (Object) rest);
      return null;
    });
  }
}
