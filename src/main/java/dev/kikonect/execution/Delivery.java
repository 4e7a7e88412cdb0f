package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * POSTs a job's payload to its action URL. Redirects are not followed (a 3xx is a failure: following one would let
 * a target bounce a signed delivery somewhere else). The outcome is a readable reason, never an exception.
 */
@Component
class Delivery implements AutoCloseable {

  private final HttpClient client;
  private final Duration timeout;
  private final String userAgent;

  Delivery(KiKonectProperties properties, @Value("${kikonect.build.version:dev}") String version) {
    this.timeout = properties.delivery().timeout();
    this.userAgent = "KiKonect/" + version;
    Duration connectTimeout = timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5);
    this.client =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(connectTimeout)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
  }

  Outcome deliver(ClaimedJob job) {
    HttpRequest request;
    try {
      request =
          HttpRequest.newBuilder(URI.create(job.actionUrl()))
              .timeout(timeout)
              .header("Content-Type", "application/json")
              .header("User-Agent", userAgent)
              .header("webhook-id", job.webhookId())
              .POST(HttpRequest.BodyPublishers.ofString(job.payload()))
              .build();
    } catch (IllegalArgumentException e) {
      return Outcome.failure(null, "invalid action URL: " + e.getMessage());
    }
    try {
      HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        return Outcome.success(status);
      }
      return Outcome.failure(status, "HTTP " + status);
    } catch (HttpConnectTimeoutException e) {
      return Outcome.failure(null, "connect timed out after " + seconds(timeout));
    } catch (HttpTimeoutException e) {
      return Outcome.failure(null, "timed out after " + seconds(timeout));
    } catch (ConnectException e) {
      if (e.getCause() instanceof UnresolvedAddressException) {
        return Outcome.failure(null, "could not resolve host " + request.uri().getHost());
      }
      return Outcome.failure(null, "connection refused");
    } catch (IOException e) {
      return Outcome.failure(null, "I/O error: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.failure(null, "interrupted by shutdown");
    }
  }

  static String seconds(Duration d) {
    if (d.toMillis() % 1000 == 0) {
      return d.toSeconds() + "s";
    }
    return d.toMillis() + "ms";
  }

  @Override
  public void close() {
    client.close();
  }
}
