package dev.kikonect.sso;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.UserLevel;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /sso/{id}/link}: the signed-in owner of an account (a browser session, not an API key) links an identity
 * of provider {@code id} to it, so that single sign-on opens this account from then on. The browser goes through the
 * provider as for a sign-in; the callback links the identity when the provider's verified address is the account's
 * own and the same account is still signed in, and sends the browser back to the Account page.
 */
@RestController
@UserLevel(sessionOnly = true)
class SsoLinkController {

    private final SsoController sso;

    SsoLinkController(SsoController sso) {
        this.sso = sso;
    }

    @GetMapping("/sso/{id}/link")
    void link(Caller caller, @PathVariable String id, HttpServletResponse response) throws IOException {
        sso.begin(id, response, caller.userId());
    }
}
