package dev.kikonect.listen;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import dev.kikonect.common.DomainException;
import dev.kikonect.common.Fields;
import dev.kikonect.execution.Listeners;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The listener's side of {@code kikonect listen}: a Server-Sent Events stream of the deliveries to {@code
 * listen://<name>} in the caller's workspace, and where the listener posts what its local server answered. A stream
 * lasts 10 minutes (the CLI connects again), sends a comment every 15 s so that proxies keep it open, and at most 50
 * are open per node, 5 of one workspace and 5 of one person ({@link ListenerSlots}).
 */
@RestController
class ListenController {

    private static final Logger log = LoggerFactory.getLogger(ListenController.class);
    static final Duration STREAM = Duration.ofMinutes(10);
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    /** 50 streams a node, 5 a workspace, 5 a person: one account cannot hold every slot. */
    private static final ListenerSlots STREAMS = new ListenerSlots(50, 5, 5);

    private final ListenMailbox mailbox;

    ListenController(ListenMailbox mailbox) {
        this.mailbox = mailbox;
    }

    @GetMapping(value = "/listen/{name}", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Scoped(Scope.TRIGGER)
    SseEmitter listen(Caller caller, @PathVariable String name) {
        if (!Listeners.validName(name)) {
            throw new DomainException.InvalidInput("name", "must be 1 to 40 lower-case letters, digits and dashes");
        }
        long workspace = caller.workspaceId();
        long user = caller.userId();
        STREAMS.take(workspace, user);
        SseEmitter emitter = new SseEmitter(STREAM.toMillis());
        Thread.ofVirtual().name("kikonect-listen-" + name).start(() -> {
            long end = System.nanoTime() + STREAM.toNanos();
            long beat = 0;
            Set<Long> pending = new HashSet<>();
            try {
                emitter.send(SseEmitter.event().comment("listening to listen://" + name));
                while (System.nanoTime() < end) {
                    List<ListenMailbox.Waiting> waiting = mailbox.claim(workspace, name, 10);
                    pending.clear();
                    waiting.forEach(w -> pending.add(w.id()));
                    for (ListenMailbox.Waiting w : waiting) {
                        Map<String, Object> event = new LinkedHashMap<>();
                        event.put("id", w.id());
                        event.put("method", w.request().path("method").asString());
                        event.put("headers", w.request().path("headers"));
                        event.put(
                                "body",
                                w.request().path("body").isNull()
                                        ? null
                                        : w.request().path("body").asString());
                        emitter.send(SseEmitter.event()
                                .name("delivery")
                                .id(Long.toString(w.id()))
                                .data(event, MediaType.APPLICATION_JSON));
                        pending.remove(w.id());
                    }
                    if (System.nanoTime() - beat > HEARTBEAT.toNanos()) {
                        emitter.send(SseEmitter.event().comment("alive"));
                        beat = System.nanoTime();
                    }
                    if (waiting.isEmpty()) {
                        Thread.sleep(100);
                    }
                }
                emitter.complete();
            } catch (IOException | IllegalStateException e) {
                // The listener went away: what it was not sent goes back for another listener; what it was sent and did
                // not answer fails its attempt when the wait ends, and is retried.
                mailbox.release(pending);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.warn("Listener stream listen://{} failed", name, e);
                emitter.completeWithError(e);
            } finally {
                STREAMS.give(workspace, user);
            }
        });
        return emitter;
    }

    /** The listener's local server answered delivery {@code id} so: its status, headers and body. */
    @PostMapping("/listen/{name}/deliveries/{id}")
    @Scoped(Scope.TRIGGER)
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void answer(
            Caller caller, @PathVariable String name, @PathVariable long id, @RequestBody Map<String, Object> body) {
        if (!mailbox.isWaiting(caller.workspaceId(), name, id)) {
            throw new DomainException.NotFound("Delivery " + id + " to listen://" + name);
        }
        Fields fields = Fields.of(body);
        Long status = fields.integer("status", true, 100, 599);
        Map<String, Object> rawHeaders = fields.object("headers", false);
        String text = fields.string("body", false, 0, 1_000_000);
        fields.throwIfInvalid();
        Map<String, String> headers = new LinkedHashMap<>();
        if (rawHeaders != null) {
            rawHeaders.forEach((k, v) -> headers.put(k, String.valueOf(v)));
        }
        if (!mailbox.answer(caller.workspaceId(), name, id, status.intValue(), headers, text == null ? "" : text)) {
            throw new DomainException.NotFound("Delivery " + id + " to listen://" + name);
        }
    }
}
