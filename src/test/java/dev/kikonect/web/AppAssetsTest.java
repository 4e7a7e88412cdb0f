package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The web app travels light: gzip, hashed assets cached for a year, the page itself always checked again. */
class AppAssetsTest extends ApiTest {

    @Test
    void hashed_assets_are_immutable_and_gzipped_while_the_page_is_revalidated() throws Exception {
        Api.Response page = api.get("/app/index.html", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Cache-Control")).isEqualTo("no-cache");
        Matcher script = Pattern.compile("/app/assets/[A-Za-z0-9_-]+\\.js").matcher(page.body());
        assertThat(script.find()).as("the built page names its script").isTrue();

        Api.Response asset = api.send("GET", script.group(), null, null, null, Map.of("Accept-Encoding", "gzip"));
        assertThat(asset.status()).isEqualTo(200);
        assertThat(asset.header("Cache-Control")).contains("max-age=31536000").contains("immutable");
        assertThat(asset.header("Content-Encoding")).isEqualTo("gzip");

        // the API's JSON too, once it is worth it
        Api.User user = api.newUser();
        for (int i = 0; i < 10; i++) {
            api.createWorkflow(user, "manual", "https://example.com/hook-" + i, Map.of());
        }
        HttpResponse<byte[]> list = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(api.base() + "/workflows"))
                                .header("Authorization", "Bearer " + user.token())
                                .header("Accept-Encoding", "gzip")
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
        assertThat(list.headers().firstValue("Content-Encoding")).hasValue("gzip");
        try (var in = new GZIPInputStream(new ByteArrayInputStream(list.body()))) {
            assertThat(Api.JSON.readTree(in).path("items")).hasSize(10);
        }
    }
}
