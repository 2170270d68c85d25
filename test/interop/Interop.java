import java.io.ByteArrayInputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Java 17's own PKIX stack as a relying party of the directory, whole-chain revocation checking on and soft-fail off.
 * One JVM runs every case given on the command line (startup dominates) and prints one line per case:
 * "<case> OK [detail]" or "<case> FAIL <exception>: <message>".
 *
 *   path:<ocsp|crl>:<leaf.pem>                       CertPathValidator + PKIXRevocationChecker
 *   tlsclient:<ocsp|crl>:<leaf.pem>                  X509TrustManager.checkClientTrusted (what a JSSE server does: EKU too)
 *   jsse:<ocsp|crl>:<TLSv1.3|TLSv1.2>:<suite|any>:<url>   HTTPS GET over the mTLS listener with the client key/cert
 *
 * Usage: java Interop <root.pem> <issuing.pem> <client.key> <client.pem> <bearer token> <case>...
 */
public class Interop {
  static CertificateFactory cf;
  static TrustAnchor anchor;
  static X509Certificate issuing;

  public static void main(String[] args) throws Exception {
    // CRLs are fetched from each certificate's distribution point only when this is set (sun.security.provider.certpath).
    System.setProperty("com.sun.security.enableCRLDP", "true");
    cf = CertificateFactory.getInstance("X.509");
    anchor = new TrustAnchor(read(args[0]), null);
    issuing = read(args[1]);
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pem(Files.readString(Path.of(args[2])), "PRIVATE KEY")));
    X509Certificate client = read(args[3]);
    String token = args[4];
    for (int i = 5; i < args.length; i++) {
      String c = args[i];
      String[] p = c.split(":", 5);
      try {
        String detail = switch (p[0]) {
          case "path" -> path(p[1], read(p[2]));
          case "tlsclient" -> tlsClient(p[1], read(p[2]));
          case "jsse" -> jsse(p[1], p[2], p[3], p[4], key, client, token);
          default -> throw new IllegalArgumentException("unknown case " + c);
        };
        System.out.println(c + " OK " + detail);
      } catch (Exception e) {
        Throwable t = e;
        StringBuilder why = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        while ((t = t.getCause()) != null) why.append(" / ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        System.out.println(c + " FAIL " + why.toString().replace('\n', ' '));
      }
    }
  }

  static X509Certificate read(String file) throws Exception {
    return (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(Path.of(file))));
  }

  static byte[] pem(String text, String label) {
    String b64 = text.replaceAll("-----(BEGIN|END) " + label + "-----", "").replaceAll("\\s", "");
    return Base64.getDecoder().decode(b64);
  }

  /** OCSP only or CRLs only (from the distribution points), every certificate of the chain, no soft-fail. */
  static PKIXRevocationChecker checker(String mode) throws Exception {
    PKIXRevocationChecker rc = (PKIXRevocationChecker) CertPathValidator.getInstance("PKIX").getRevocationChecker();
    rc.setOptions(mode.equals("crl")
      ? EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK)
      : EnumSet.of(PKIXRevocationChecker.Option.NO_FALLBACK));
    return rc;
  }

  static String path(String mode, X509Certificate leaf) throws Exception {
    PKIXParameters params = new PKIXParameters(Set.of(anchor));
    params.setRevocationEnabled(true);
    params.addCertPathChecker(checker(mode));
    CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(leaf, issuing)), params);
    return "";
  }

  static X509TrustManager trustManager(String mode) throws Exception {
    PKIXBuilderParameters params = new PKIXBuilderParameters(Set.of(anchor), null);
    params.setRevocationEnabled(true);
    params.addCertPathChecker(checker(mode));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(new CertPathTrustManagerParameters(params));
    return (X509TrustManager) tmf.getTrustManagers()[0];
  }

  static String tlsClient(String mode, X509Certificate leaf) throws Exception {
    trustManager(mode).checkClientTrusted(new X509Certificate[] { leaf, issuing }, "EC");
    return "";
  }

  static String jsse(String mode, String protocol, String suite, String url, PrivateKey key, X509Certificate client, String token) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] pass = "interop".toCharArray();
    ks.setKeyEntry("client", key, pass, new java.security.cert.Certificate[] { client, issuing });
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(ks, pass);
    SSLContext ctx = SSLContext.getInstance(protocol);
    ctx.init(kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] { trustManager(mode) }, null);
    SSLSocketFactory base = ctx.getSocketFactory();
    HttpsURLConnection conn = (HttpsURLConnection) new URL(url).openConnection();
    conn.setSSLSocketFactory(suite.equals("any") ? base : new OneSuite(base, protocol, suite));
    conn.setConnectTimeout(20000);
    conn.setReadTimeout(20000);
    conn.setRequestProperty("Authorization", "Bearer " + token);
    int status = conn.getResponseCode();
    String server = ((X509Certificate) conn.getServerCertificates()[0]).getPublicKey().getAlgorithm();
    String cipher = conn.getCipherSuite();
    conn.disconnect();
    return "status=" + status + " cipher=" + cipher + " serverKey=" + server;
  }

  /** Restricts the handshake to one protocol version and one suite (e.g. a FAPI 2.0 TLS 1.2 RSA suite). */
  static final class OneSuite extends SSLSocketFactory {
    final SSLSocketFactory d; final String protocol; final String suite;
    OneSuite(SSLSocketFactory d, String protocol, String suite) { this.d = d; this.protocol = protocol; this.suite = suite; }
    java.net.Socket set(java.net.Socket s) {
      javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) s;
      ssl.setEnabledProtocols(new String[] { protocol });
      ssl.setEnabledCipherSuites(new String[] { suite });
      return ssl;
    }
    public String[] getDefaultCipherSuites() { return new String[] { suite }; }
    public String[] getSupportedCipherSuites() { return d.getSupportedCipherSuites(); }
    public java.net.Socket createSocket(java.net.Socket s, String h, int p, boolean a) throws java.io.IOException { return set(d.createSocket(s, h, p, a)); }
    public java.net.Socket createSocket(String h, int p) throws java.io.IOException { return set(d.createSocket(h, p)); }
    public java.net.Socket createSocket(String h, int p, java.net.InetAddress l, int lp) throws java.io.IOException { return set(d.createSocket(h, p, l, lp)); }
    public java.net.Socket createSocket(java.net.InetAddress h, int p) throws java.io.IOException { return set(d.createSocket(h, p)); }
    public java.net.Socket createSocket(java.net.InetAddress h, int p, java.net.InetAddress l, int lp) throws java.io.IOException { return set(d.createSocket(h, p, l, lp)); }
  }
}
