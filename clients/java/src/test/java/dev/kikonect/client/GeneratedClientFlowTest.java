package dev.kikonect.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.kikonect.client.api.AuthApi;
import dev.kikonect.client.api.RunsApi;
import dev.kikonect.client.api.TriggersApi;
import dev.kikonect.client.api.WorkflowsApi;
import dev.kikonect.client.model.CronTriggerConfig;
import dev.kikonect.client.model.CronWorkflow;
import dev.kikonect.client.model.CronWorkflowInput;
import dev.kikonect.client.model.Credentials;
import dev.kikonect.client.model.ManualWorkflow;
import dev.kikonect.client.model.ManualWorkflowInput;
import dev.kikonect.client.model.Registration;
import dev.kikonect.client.model.Run;
import dev.kikonect.client.model.RunStatus;
import dev.kikonect.client.model.Session;
import dev.kikonect.client.model.Step;
import dev.kikonect.client.model.TriggerType;
import dev.kikonect.client.model.Workflow;
import dev.kikonect.client.model.WorkflowInput;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client openapi-generator makes from openapi.yaml, against the packaged jar (started here with a fresh data
 * directory): register, log in, create a workflow, trigger it, read the run until it succeeded, and the receiver got
 * the payload.
 */
class GeneratedClientFlowTest {

  static Process kikonect;
  static int port;
  static HttpServer receiver;
  static final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    String jar = System.getProperty("kikonect.jar");
    assertTrue(jar != null && Files.exists(Path.of(jar)), "-Dkikonect.jar=<path to kikonect.jar> is required, got " + jar);
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path data = Files.createTempDirectory("kikonect-client-");
    kikonect = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-jar", jar, "--server.port=" + port,
            "--kikonect.data-dir=" + data, "--kikonect.delivery.allowed-cidrs=127.0.0.1/32")
        .redirectErrorStream(true)
        .redirectOutput(data.resolve("kikonect.log").toFile())
        .start();
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          break;
        }
      } catch (IOException e) {
        // not listening yet
      }
      assertTrue(kikonect.isAlive(), "KiKonect exited; see " + data.resolve("kikonect.log"));
      assertTrue(System.nanoTime() < deadline, "KiKonect not ready in 90 s; see " + data.resolve("kikonect.log"));
      Thread.sleep(200);
    }
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/", exchange -> {
      received.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    receiver.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (receiver != null) {
      receiver.stop(0);
    }
    if (kikonect != null) {
      kikonect.destroy();
      kikonect.waitFor();
    }
  }

  @Test
  void a_generated_client_registers_creates_a_workflow_triggers_it_and_reads_the_run() throws Exception {
    ApiClient client = new ApiClient();
    client.updateBaseUri("http://127.0.0.1:" + port);
    AuthApi auth = new AuthApi(client);
    String email = "client-" + System.nanoTime() + "@example.com";
    auth.register(new Registration().email(email).password("correct horse battery").firstname("Ada").lastname("Lovelace"));
    Session session = auth.login(new Credentials().email(email).password("correct horse battery"));
    client.setRequestInterceptor(request -> request.header("Authorization", "Bearer " + session.getToken()));

    WorkflowsApi workflows = new WorkflowsApi(client);
    ManualWorkflow workflow = workflows.createWorkflow(
            new WorkflowInput(new ManualWorkflowInput()
                .name("from the generated client")
                .triggerType(ManualWorkflowInput.TriggerTypeEnum.MANUAL)
                .actionUrl(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/orders"))),
            null)
        .getManualWorkflow();
    // one schema per trigger type: a cron workflow's config comes back typed
    CronWorkflow nightly = workflows.createWorkflow(
            new WorkflowInput(new CronWorkflowInput()
                .name("nightly")
                .triggerType(CronWorkflowInput.TriggerTypeEnum.CRON)
                .actionUrl(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/nightly"))
                .triggerConfig(new CronTriggerConfig().expression("0 3 * * *").timezone("Europe/Berlin"))),
            null)
        .getCronWorkflow();
    assertEquals("Europe/Berlin", nightly.getTriggerConfig().getTimezone());
    assertTrue(workflows.getWorkflow(nightly.getId(), null).getActualInstance() instanceof CronWorkflow);
    // a workflow with steps: created, read and listed, every step setting kept, null fields read as null
    String receiverBase = "http://127.0.0.1:" + receiver.getAddress().getPort();
    ManualWorkflow chain = workflows.createWorkflow(
            new WorkflowInput(new ManualWorkflowInput()
                .name("chain")
                .triggerType(ManualWorkflowInput.TriggerTypeEnum.MANUAL)
                .steps(List.of(
                    new Step().key("first").url(receiverBase + "/first").maxAttempts(3),
                    new Step().key("second").method(Step.MethodEnum.PUT).url(receiverBase + "/second").needs(List.of("first")).timeout(9)))),
            null)
        .getManualWorkflow();
    ManualWorkflow read = workflows.getWorkflow(chain.getId(), null).getManualWorkflow();
    assertEquals(2, read.getSteps().size());
    assertEquals(3, read.getSteps().get(0).getMaxAttempts());
    assertEquals(List.of("first"), read.getSteps().get(1).getNeeds());
    assertEquals(9, read.getSteps().get(1).getTimeout());
    assertEquals(null, read.getActionUrl()); // a step workflow has no action_url: null, and the client reads it
    List<Workflow> manual = workflows.listWorkflows(TriggerType.MANUAL, null, 100, null, null).getItems();
    assertTrue(manual.stream().anyMatch(w -> w.getActualInstance() instanceof ManualWorkflow m && m.getId().equals(chain.getId())));

    Run accepted = new TriggersApi(client).triggerWorkflow(workflow.getId(), null, null, Map.of("order", 42));

    RunsApi runs = new RunsApi(client);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Run run = runs.getRun(accepted.getId(), null);
    while (run.getStatus() != RunStatus.SUCCEEDED && System.nanoTime() < deadline) {
      Thread.sleep(100);
      run = runs.getRun(accepted.getId(), null);
    }
    assertEquals(RunStatus.SUCCEEDED, run.getStatus());
    assertEquals(1, run.getAttempts().size());
    assertEquals(List.of("{\"order\":42}"), received);
    assertEquals(workflow.getId(), run.getWorkflowId());
  }
}
