package dev.kikonect.trigger;

import dev.kikonect.common.DatabaseHealth;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.ResumeTokens;
import dev.kikonect.lifecycle.Resumes;
import dev.kikonect.web.PublicEndpoint;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /resume/{token}}: the callback a step waiting for one ({@code wait: {for: callback}}) is resumed with. No
 * login: the token is the capability (an HMAC, checked before anything else, so a wrong one costs no database work);
 * the JSON posted becomes the step's response; a token works once (202, then 409).
 */
@RestController
class ResumeController {

    private final ResumeTokens tokens;
    private final Resumes resumes;
    private final PayloadReader payloads;
    private final DatabaseHealth database;
    private final Clock clock;

    ResumeController(
            ResumeTokens tokens, Resumes resumes, PayloadReader payloads, DatabaseHealth database, Clock clock) {
        this.tokens = tokens;
        this.resumes = resumes;
        this.payloads = payloads;
        this.database = database;
        this.clock = clock;
    }

    @PublicEndpoint
    @PostMapping("/resume/{token}")
    ResponseEntity<Map<String, Object>> resume(@PathVariable String token, HttpServletRequest request) {
        ResumeTokens.Target target = tokens.verify(token).orElseThrow(() -> new DomainException.NotFound("Resume URL"));
        database.requireUp();
        String body = payloads.read(request);
        return switch (resumes.resume(target.runId(), target.step(), body, clock.instant())) {
            case RESUMED -> {
                Map<String, Object> resumed = new LinkedHashMap<>();
                resumed.put("run_id", target.runId());
                resumed.put("step", target.step());
                resumed.put("status", "resumed");
                yield ResponseEntity.status(HttpStatus.ACCEPTED).body(resumed);
            }
            case ALREADY ->
                throw new DomainException.Conflict(
                        "already-resumed", "This step was resumed already, or its run ended: a resume URL works once.");
            case NOT_FOUND -> throw new DomainException.NotFound("Resume URL");
        };
    }
}
