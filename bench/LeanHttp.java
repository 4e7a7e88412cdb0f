import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The measuring instrument's HTTP/1.1, kept as lean as possible: the benchmarks run it on the same two cores as
 * KiKonect, so every cycle it spends is taken from what it measures. The JDK's HttpServer and HttpClient took 30-70 %
 * of a core at 500 requests/s; this takes a fraction of that. It speaks only what the suite needs: keep-alive,
 * Content-Length or chunked bodies, no TLS, no redirects.
 */
final class LeanHttp {

  private LeanHttp() {}

  /** A request as the sink sees it. */
  record Request(String method, String path, byte[] body) {}

  interface Handler {
    /** Handles one request; the sink answers 200 with an empty body once this returns. */
    void handle(Request request) throws Exception;
  }

  /** A receiver on 127.0.0.1: one virtual thread per connection, requests answered in order. */
  static final class Sink implements AutoCloseable {
    private final ServerSocket server;

    Sink(Handler handler) throws IOException {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
      Thread.ofPlatform().daemon(true).name("sink-accept").start(() -> accept(handler));
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept(Handler handler) {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          socket.setTcpNoDelay(true);
          Thread.ofVirtual().start(() -> serve(socket, handler));
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private static void serve(Socket socket, Handler handler) {
      try (socket) {
        InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        OutputStream out = socket.getOutputStream();
        while (true) {
          Message m = Message.read(in, true);
          if (m == null) {
            return;
          }
          handler.handle(new Request(m.method, m.path, m.body));
          out.write(OK);
          out.flush();
          if (m.close) {
            return;
          }
        }
      } catch (Exception e) {
        // the peer went away
      }
    }

    private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** One keep-alive connection that POSTs JSON and reads the status; reconnects when the server closes it. */
  static final class Connection implements AutoCloseable {
    private final URI uri;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    Connection(URI uri) {
      this.uri = uri;
    }

    /** POSTs {@code json} to the URI's path and returns the response status. */
    int post(String json) throws IOException {
      if (socket == null) {
        socket = new Socket(uri.getHost(), uri.getPort());
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        out = socket.getOutputStream();
      }
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      String head =
          "POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
              + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
      byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
      byte[] request = new byte[headBytes.length + body.length];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, 0, request, headBytes.length, body.length);
      try {
        out.write(request);
        out.flush();
        Message response = Message.read(in, false);
        if (response == null) {
          throw new IOException("connection closed");
        }
        if (response.close) {
          close();
        }
        return response.status;
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    @Override
    public void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        socket = null;
      }
    }
  }

  /** Threads that each own one keep-alive connection to {@code uri} and run queued sends on it, in order. */
  static final class Senders implements AutoCloseable {
    private final BlockingQueue<java.util.function.Consumer<Connection>> queue = new LinkedBlockingQueue<>();
    private final java.util.List<Thread> threads = new java.util.ArrayList<>();

    Senders(int connections, URI uri) {
      for (int i = 0; i < connections; i++) {
        Connection connection = new Connection(uri);
        threads.add(Thread.ofPlatform().daemon(true).name("sender-" + i).start(() -> work(connection)));
      }
    }

    /** Stops the threads (after their current send) and closes their connections. */
    @Override
    public void close() {
      threads.forEach(Thread::interrupt);
    }

    void submit(java.util.function.Consumer<Connection> send) {
      queue.add(send);
    }

    private void work(Connection connection) {
      while (true) {
        try {
          queue.take().accept(connection);
        } catch (InterruptedException e) {
          connection.close();
          return;
        }
      }
    }
  }

  /** One HTTP/1.1 message head and body, read from a stream. */
  private static final class Message {
    String method;
    String path;
    int status;
    boolean close;
    byte[] body = new byte[0];

    /** Null at a clean end of stream before a message. */
    static Message read(InputStream in, boolean request) throws IOException {
      String first = line(in);
      if (first == null) {
        return null;
      }
      Message m = new Message();
      String[] parts = first.split(" ", 3);
      if (request) {
        m.method = parts[0];
        m.path = parts.length > 1 ? parts[1] : "/";
      } else {
        m.status = Integer.parseInt(parts[1]);
      }
      long length = 0;
      boolean chunked = false;
      String header;
      while ((header = line(in)) != null && !header.isEmpty()) {
        int colon = header.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = header.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
          case "connection" -> m.close = value.equalsIgnoreCase("close");
          default -> {}
        }
      }
      if (chunked) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
          String size = line(in);
          int n = Integer.parseInt(size.split(";", 2)[0].trim(), 16);
          if (n == 0) {
            while ((header = line(in)) != null && !header.isEmpty()) {
              // trailers
            }
            break;
          }
          body.write(in.readNBytes(n));
          line(in);
        }
        m.body = body.toByteArray();
      } else if (length > 0) {
        m.body = in.readNBytes((int) length);
      }
      return m;
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder s = new StringBuilder(64);
      int b;
      while ((b = in.read()) != -1) {
        if (b == '\n') {
          int end = s.length();
          if (end > 0 && s.charAt(end - 1) == '\r') {
            s.setLength(end - 1);
          }
          return s.toString();
        }
        s.append((char) b);
      }
      return s.isEmpty() ? null : s.toString();
    }
  }
}
