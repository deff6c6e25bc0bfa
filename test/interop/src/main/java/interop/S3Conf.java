package interop;

import java.util.HashMap;
import java.util.Map;

/**
 * Flink's S3 filesystem (flink-s3-fs-hadoop, on the classpath) pointed at the harness's local S3
 * server: endpoint, path-style access and the test credentials, from the environment
 * ({@code INTEROP_S3_ENDPOINT}, {@code INTEROP_S3_ACCESS_KEY}, {@code INTEROP_S3_SECRET_KEY}). Without
 * {@code INTEROP_S3_ENDPOINT} the configuration is returned unchanged. The keys are Flink's
 * {@code s3.*} names, which the filesystem factory mirrors to Hadoop's {@code fs.s3a.*}.
 */
final class S3Conf {
  private S3Conf() {}

  static Map<String, String> with(Map<String, String> base) {
    String endpoint = System.getenv("INTEROP_S3_ENDPOINT");
    if (endpoint == null || endpoint.isEmpty()) return base;
    Map<String, String> c = new HashMap<>(base);
    c.put("s3.endpoint", endpoint);
    c.put("s3.endpoint.region", "us-east-1");
    c.put("s3.path.style.access", "true");
    c.put("s3.connection.ssl.enabled", String.valueOf(endpoint.startsWith("https:")));
    c.put("s3.access-key", System.getenv().getOrDefault("INTEROP_S3_ACCESS_KEY", ""));
    c.put("s3.secret-key", System.getenv().getOrDefault("INTEROP_S3_SECRET_KEY", ""));
    // One attempt per request is enough on loopback; a missing object must fail fast, not retry.
    c.put("s3.attempts.maximum", "2");
    c.put("s3.retry.limit", "2");
    return c;
  }
}
