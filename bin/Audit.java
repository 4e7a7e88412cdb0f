import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * bin/audit's Java half: reads the runtime dependencies that `mvn dependency:list` wrote (group:artifact:type:version:scope)
 * and asks OSV (https://api.osv.dev, which covers GitHub advisories and the NVD for Maven) which of them have known
 * vulnerabilities. Prints one line per vulnerable dependency; exits 1 when there is one, 2 when OSV cannot be reached
 * (then nothing can be said, and it says so).
 */
public class Audit {
  public static void main(String[] args) throws Exception {
    List<String[]> deps = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      String[] p = line.strip().split(":");
      if (p.length >= 5 && !line.contains("The following")) {
        deps.add(new String[] {p[0] + ":" + p[1], p[3]});
      }
    }
    JsonMapper json = JsonMapper.builder().build();
    StringBuilder body = new StringBuilder("{\"queries\":[");
    for (int i = 0; i < deps.size(); i++) {
      body.append(i == 0 ? "" : ",").append("{\"package\":{\"ecosystem\":\"Maven\",\"name\":\"").append(deps.get(i)[0])
          .append("\"},\"version\":\"").append(deps.get(i)[1]).append("\"}");
    }
    body.append("]}");
    HttpResponse<String> response;
    try {
      response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build().send(
          HttpRequest.newBuilder(URI.create("https://api.osv.dev/v1/querybatch")).timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      System.out.println("Java: cannot reach api.osv.dev (" + e + "); " + deps.size() + " dependencies NOT audited.");
      System.exit(2);
      return;
    }
    if (response.statusCode() != 200) {
      System.out.println("Java: api.osv.dev answered " + response.statusCode() + "; " + deps.size() + " dependencies NOT audited.");
      System.exit(2);
    }
    JsonNode results = json.readTree(response.body()).path("results");
    int vulnerable = 0;
    for (int i = 0; i < deps.size(); i++) {
      JsonNode vulns = results.path(i).path("vulns");
      if (vulns.isArray() && !vulns.isEmpty()) {
        vulnerable++;
        List<String> ids = new ArrayList<>();
        vulns.forEach(v -> ids.add(v.path("id").asString()));
        System.out.println("VULNERABLE " + deps.get(i)[0] + ":" + deps.get(i)[1] + " " + ids);
      }
    }
    System.out.println("Java: " + deps.size() + " runtime dependencies audited against OSV, " + vulnerable + " with known vulnerabilities.");
    System.exit(vulnerable > 0 ? 1 : 0);
  }
}
