package dev.kikonect.execution;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A small HTTP/1.1 client for deliveries, written for one property the JDK's HttpClient cannot give: the socket
 * connects to exactly the address the SSRF guard checked. The host is resolved once, every address is checked, and
 * the connection goes to a checked address, so DNS rebinding between check and connect is impossible. TLS is
 * layered on that socket with the original host name for SNI and certificate verification. Connections are kept
 * alive and pooled per (scheme, host, port, address); the whole exchange is bounded by one deadline.
 */
final class PinnedHttpClient implements AutoCloseable {

  /** Delivery to this address is refused by the guard; not worth retrying. */
  static final class RefusedAddressException extends IOException {
    RefusedAddressException(String reason) {
      super(reason);
    }
  }

  /** A connect attempt ran out of time (as opposed to waiting for the response). */
  static final class ConnectTimeoutException extends SocketTimeoutException {
    ConnectTimeoutException() {
      super("connect timed out");
    }
  }

  record Response(int status, List<Map.Entry<String, String>> headers, byte[] body, boolean bodyTruncated) {
    Optional<String> header(String name) {
      return headers.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
    }
  }

  static final int BODY_PREFIX = 4096;
  private static final int MAX_DRAIN = 1024 * 1024;
  private static final int MAX_HEAD = 64 * 1024;
  private static final long IDLE_NANOS = Duration.ofSeconds(30).toNanos();

  private final AddressGuard guard;
  private final SSLSocketFactory tls;
  private final Duration connectTimeout;
  private final Map<String, ConcurrentLinkedDeque<Connection>> pool = new ConcurrentHashMap<>();
  private volatile long lastSweep = System.nanoTime();

  PinnedHttpClient(AddressGuard guard, SSLSocketFactory tls, Duration connectTimeout) {
    this.guard = guard;
    this.tls = tls;
    this.connectTimeout = connectTimeout;
  }

  /** Resolves {@code host} and checks every address; the first allowed one is returned. */
  InetAddress[] resolve(String host) throws IOException {
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new UnknownHostException(host);
    }
    for (InetAddress address : addresses) {
      Optional<String> refusal = guard.refusal(address);
      if (refusal.isPresent()) {
        // One bad record is enough to refuse: a name that mixes public and internal addresses is an attack.
        throw new RefusedAddressException(refusal.get());
      }
    }
    return addresses;
  }

  /** POSTs {@code body} to {@code uri} with {@code headers}; the whole exchange must end within {@code timeout}. */
  Response post(URI uri, List<Map.Entry<String, String>> headers, byte[] body, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    boolean secure = scheme.equals("https");
    String host = uri.getHost();
    if (host == null) {
      throw new IOException("URL has no host");
    }
    String bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    int port = uri.getPort() > 0 ? uri.getPort() : secure ? 443 : 80;
    InetAddress[] addresses = resolve(bareHost);
    byte[] head = requestHead(uri, host, port, secure, headers, body.length);

    Connection connection = take(scheme, bareHost, port, addresses);
    if (connection != null) {
      try {
        return exchange(connection, head, body, deadline);
      } catch (IOException e) {
        connection.close();
        if (connection.responseStarted || System.nanoTime() >= deadline) {
          throw e;
        }
        // The server closed a pooled connection before we used it; try once more on a new one.
      }
    }
    connection = open(scheme, bareHost, port, addresses, secure, deadline);
    try {
      return exchange(connection, head, body, deadline);
    } catch (IOException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  private Response exchange(Connection c, byte[] head, byte[] body, long deadline) throws IOException {
    c.in.deadline = deadline;
    c.responseStarted = false;
    c.out.write(head);
    c.out.write(body);
    c.out.flush();
    while (true) {
      String statusLine = readLine(c.buffered);
      c.responseStarted = true;
      if (!statusLine.startsWith("HTTP/1.")) {
        throw new IOException("invalid HTTP response: " + truncate(statusLine));
      }
      String[] parts = statusLine.split(" ", 3);
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (RuntimeException e) {
        throw new IOException("invalid HTTP status line: " + truncate(statusLine));
      }
      List<Map.Entry<String, String>> responseHeaders = readHeaders(c.buffered);
      if (status >= 100 && status < 200) {
        continue; // 100 Continue and friends: the real answer follows
      }
      boolean http11 = statusLine.startsWith("HTTP/1.1");
      boolean close = !http11 || headerValue(responseHeaders, "connection").map(v -> v.equalsIgnoreCase("close")).orElse(false);
      ByteArrayOutputStream prefix = new ByteArrayOutputStream();
      boolean complete;
      if (status == 204 || status == 304) {
        complete = true;
      } else if (headerValue(responseHeaders, "transfer-encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false)) {
        complete = readChunked(c.buffered, prefix);
      } else {
        Optional<String> length = headerValue(responseHeaders, "content-length");
        if (length.isPresent()) {
          long n;
          try {
            n = Long.parseLong(length.get().strip());
          } catch (NumberFormatException e) {
            throw new IOException("invalid Content-Length: " + truncate(length.get()));
          }
          complete = readFixed(c.buffered, n, prefix);
        } else {
          readFixed(c.buffered, MAX_DRAIN, prefix); // until the server closes
          complete = false;
          close = true;
        }
      }
      byte[] bytes = prefix.toByteArray();
      boolean truncated = bytes.length > BODY_PREFIX;
      if (truncated) {
        bytes = java.util.Arrays.copyOf(bytes, BODY_PREFIX);
      }
      if (complete && !close) {
        release(c);
      } else {
        c.close();
      }
      return new Response(status, responseHeaders, bytes, truncated);
    }
  }

  private static byte[] requestHead(
      URI uri, String host, int port, boolean secure, List<Map.Entry<String, String>> headers, int length) {
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    boolean defaultPort = port == (secure ? 443 : 80);
    StringBuilder head = new StringBuilder(256);
    head.append("POST ").append(path).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(host).append(defaultPort ? "" : ":" + port).append("\r\n");
    for (Map.Entry<String, String> h : headers) {
      head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    head.append("Content-Length: ").append(length).append("\r\n\r\n");
    return head.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private Connection open(String scheme, String host, int port, InetAddress[] addresses, boolean secure, long deadline)
      throws IOException {
    IOException last = null;
    for (InetAddress address : addresses) {
      long remaining = remainingMillis(deadline);
      int connectMillis = (int) Math.max(1, Math.min(remaining, connectTimeout.toMillis()));
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        try {
          socket.connect(new InetSocketAddress(address, port), connectMillis);
        } catch (SocketTimeoutException e) {
          throw new ConnectTimeoutException();
        }
        Socket active = socket;
        if (secure) {
          SSLSocket ssl = (SSLSocket) tls.createSocket(socket, host, port, true);
          SSLParameters parameters = ssl.getSSLParameters();
          parameters.setEndpointIdentificationAlgorithm("HTTPS");
          if (!isIpLiteral(host)) {
            parameters.setServerNames(List.of(new SNIHostName(host)));
          }
          ssl.setSSLParameters(parameters);
          ssl.setSoTimeout((int) Math.max(1, remainingMillis(deadline)));
          ssl.startHandshake();
          active = ssl;
        }
        return new Connection(key(scheme, host, port, address), active);
      } catch (IOException e) {
        socket.close();
        last = e;
        if (remainingMillis(deadline) <= 0) {
          break;
        }
      }
    }
    throw last == null ? new IOException("no address to connect to") : last;
  }

  private static boolean isIpLiteral(String host) {
    return host.contains(":") || host.matches("[0-9.]+");
  }

  private static String key(String scheme, String host, int port, InetAddress address) {
    return scheme + "://" + host + ":" + port + "@" + address.getHostAddress();
  }

  private Connection take(String scheme, String host, int port, InetAddress[] addresses) {
    long now = System.nanoTime();
    for (InetAddress address : addresses) {
      ConcurrentLinkedDeque<Connection> idle = pool.get(key(scheme, host, port, address));
      if (idle == null) {
        continue;
      }
      Connection c;
      while ((c = idle.pollFirst()) != null) {
        if (now - c.idleSince < IDLE_NANOS && !c.socket.isClosed()) {
          return c;
        }
        c.close();
      }
    }
    return null;
  }

  private void release(Connection c) {
    c.idleSince = System.nanoTime();
    pool.computeIfAbsent(c.key, k -> new ConcurrentLinkedDeque<>()).offerFirst(c);
    if (c.idleSince - lastSweep > IDLE_NANOS / 3) {
      lastSweep = c.idleSince;
      sweep(c.idleSince);
    }
  }

  private void sweep(long now) {
    for (Iterator<Map.Entry<String, ConcurrentLinkedDeque<Connection>>> it = pool.entrySet().iterator(); it.hasNext(); ) {
      ConcurrentLinkedDeque<Connection> idle = it.next().getValue();
      idle.removeIf(
          c -> {
            boolean stale = now - c.idleSince >= IDLE_NANOS;
            if (stale) {
              c.close();
            }
            return stale;
          });
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      if (line.size() > MAX_HEAD) {
        throw new IOException("response header line too long");
      }
    }
    throw new EOFException("connection closed before a complete response");
  }

  private static List<Map.Entry<String, String>> readHeaders(InputStream in) throws IOException {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    int total = 0;
    String line;
    while (!(line = readLine(in)).isEmpty()) {
      total += line.length();
      if (total > MAX_HEAD || headers.size() > 200) {
        throw new IOException("response headers too large");
      }
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.add(Map.entry(line.substring(0, colon).strip(), line.substring(colon + 1).strip()));
      }
    }
    return headers;
  }

  private static Optional<String> headerValue(List<Map.Entry<String, String>> headers, String name) {
    return headers.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
  }

  /** Reads {@code length} bytes, keeping a prefix; false when the body was too long to drain (close, don't reuse). */
  private static boolean readFixed(InputStream in, long length, ByteArrayOutputStream prefix) throws IOException {
    byte[] buffer = new byte[8192];
    long left = Math.min(length, MAX_DRAIN);
    while (left > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        if (length >= MAX_DRAIN) {
          return false; // read-until-close bodies end here
        }
        throw new EOFException("connection closed in the middle of the response body");
      }
      if (prefix.size() <= BODY_PREFIX) {
        prefix.write(buffer, 0, n);
      }
      left -= n;
    }
    return length <= MAX_DRAIN;
  }

  private static boolean readChunked(InputStream in, ByteArrayOutputStream prefix) throws IOException {
    long drained = 0;
    while (true) {
      String sizeLine = readLine(in);
      int semicolon = sizeLine.indexOf(';');
      long size;
      try {
        size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).strip(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("invalid chunk size: " + truncate(sizeLine));
      }
      if (size == 0) {
        readHeaders(in); // trailers
        return true;
      }
      drained += size;
      if (drained > MAX_DRAIN) {
        return false;
      }
      readFixed(in, size, prefix);
      readLine(in);
    }
  }

  private static long remainingMillis(long deadline) {
    return (deadline - System.nanoTime()) / 1_000_000;
  }

  private static String truncate(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "..." : s;
  }

  @Override
  public void close() {
    pool.values().forEach(idle -> idle.forEach(Connection::close));
    pool.clear();
  }

  /** One kept-alive connection; its reads fail with a timeout once the current exchange's deadline passes. */
  private static final class Connection {
    final String key;
    final Socket socket;
    final DeadlineInputStream in;
    final BufferedInputStream buffered;
    final OutputStream out;
    volatile long idleSince;
    boolean responseStarted;

    Connection(String key, Socket socket) throws IOException {
      this.key = key;
      this.socket = socket;
      this.in = new DeadlineInputStream(socket);
      this.buffered = new BufferedInputStream(in, 16 * 1024);
      this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private static final class DeadlineInputStream extends FilterInputStream {
    private final Socket socket;
    volatile long deadline;

    DeadlineInputStream(Socket socket) throws IOException {
      super(socket.getInputStream());
      this.socket = socket;
    }

    private void arm() throws IOException {
      long remaining = remainingMillis(deadline);
      if (remaining <= 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining));
    }

    @Override
    public int read() throws IOException {
      arm();
      return super.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      arm();
      return super.read(b, off, len);
    }
  }
}
