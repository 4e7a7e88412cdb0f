package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import dev.kikonect.support.Api;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Behind a reverse proxy (README, Deploy): with Tomcat's forwarded-header support on and the proxy's address
 * trusted, the client address KiKonect sees (login throttle, audit log, rate limits per address) is the client's,
 * not the proxy's; a client the proxy did not vouch for cannot pretend.
 */
@TestPropertySource(
        properties = {
            "server.forward-headers-strategy=native",
            "server.tomcat.remoteip.internal-proxies=127\\.0\\.0\\.1"
        })
class BehindProxyTest extends ApiTest {

    @Test
    void the_address_a_trusted_proxy_forwards_is_the_client_address() {
        Api.User ada = api.newUser();
        Api.Response login = api.send(
                "POST",
                "/login",
                null,
                "application/json",
                "{\"email\":\"" + ada.email() + "\",\"password\":\"" + ada.password() + "\"}",
                Map.of("X-Forwarded-For", "203.0.113.7"));
        assertThat(login.status()).isEqualTo(200);
        String token = login.json().path("token").asString();
        assertThat(api.get("/audit?action=user.signed_in", token).json().path("items"))
                .extracting(e -> e.path("client").asString())
                .contains("203.0.113.7");
    }
}
