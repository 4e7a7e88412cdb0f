package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.common.ResumeTokens;
import dev.kikonect.lifecycle.ClaimedJob;
import dev.kikonect.lifecycle.Claims;
import dev.kikonect.lifecycle.Completions;
import dev.kikonect.lifecycle.Items;
import dev.kikonect.lifecycle.Resumes;
import dev.kikonect.lifecycle.SubRuns;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.json.JsonMapper;

@Configuration(proxyBeanMethods = false)
class DeliveryConfiguration {

    @Bean
    AddressGuard addressGuard(KiKonectProperties properties) {
        return new AddressGuard(
                properties.delivery().allowPrivateNetworks(),
                properties.delivery().allowedCidrs().stream()
                        .map(AddressGuard.Cidr::parse)
                        .toList());
    }

    /** The JVM's default trust store; tests replace it to trust their own certificate. */
    @Bean
    @ConditionalOnMissingBean
    DeliveryClient.Tls deliveryTls() {
        return DeliveryClient.Tls.SYSTEM;
    }

    /** Parsed payloads shared by the steps of a run in flight on this node. */
    @Bean
    SharedPayloads sharedPayloads() {
        return new SharedPayloads();
    }

    @Bean
    CompiledSteps compiledSteps(JsonMapper json) {
        return new CompiledSteps(json);
    }

    /** The memory budget ({@code kikonect.executor.memory-budget}) and each workspace's share of it and of the slots. */
    @Bean
    DeliveryBudget deliveryBudget(
            KiKonectProperties properties, SharedPayloads payloads, CompiledSteps compiled, MeterRegistry meters) {
        KiKonectProperties.Executor settings = properties.executor();
        DeliveryBudget budget = new DeliveryBudget(
                compiled,
                keptBytes(properties),
                settings.memoryBudget().toBytes(),
                settings.perOwnerMemory().toBytes(),
                settings.perOwnerConcurrency(),
                settings.ownerConcurrency(),
                settings.batchSize(),
                payloads);
        Gauge.builder("kikonect.executor.memory", budget, DeliveryBudget::heldBytes)
                .description("Bytes held by the deliveries in flight (bounded by kikonect.executor.memory-budget)")
                .baseUnit("bytes")
                .register(meters);
        return budget;
    }

    @Bean(destroyMethod = "close")
    OutcomeRecorder outcomeRecorder(
            Completions completions, Clock clock, MeterRegistry meters, KiKonectProperties properties) {
        return new OutcomeRecorder(
                completions, clock, meters, properties.executor().leaseDuration());
    }

    /** The attempt pipeline as the executor runs it: sends through {@link Delivery} (timed), reads steps through {@link Claims}. */
    @Bean
    AttemptPipeline attemptPipeline(
            Clock clock,
            JsonMapper json,
            CompiledSteps compiled,
            SharedPayloads payloads,
            Claims claims,
            SubRuns subRuns,
            Items items,
            Resumes resumes,
            PushSender pushes,
            ResumeTokens tokens,
            PublicUrls urls,
            Delivery delivery,
            StepCredentials credentials,
            RetryPolicy retries,
            KiKonectProperties properties,
            MeterRegistry meters) {
        Timer duration = Timer.builder("kikonect.delivery.duration")
                .description("How long one delivery attempt took")
                .publishPercentileHistogram()
                .register(meters);
        Counter parsed = Counter.builder("kikonect.payloads.parsed")
                .description(
                        "Payloads parsed for the expressions of steps (the steps of a run in flight on this node share one)")
                .register(meters);
        AttemptPipeline.Sender sender = (job, request, bodyIsPayload, timeout, keep) -> {
            Delivery.Sent sent = delivery.send(
                    request.method(),
                    request.url(),
                    request.headers(),
                    job.webhookId(),
                    job.signingSecret(),
                    job.previousSecret(),
                    request.body(),
                    bodyIsPayload,
                    job.number(),
                    timeout,
                    keep,
                    job.workspaceId());
            duration.record(Duration.ofMillis(sent.attempt().durationMs()));
            return sent;
        };
        Duration timeout = properties.delivery().timeout();
        return new AttemptPipeline(
                clock,
                json,
                compiled,
                payloads,
                claims::stepResponses,
                sender,
                credentials,
                new HostLimiter(Math.max(1, properties.executor().perHostConcurrency())),
                retries,
                new AttemptPipeline.Settings(
                        timeout,
                        timeout,
                        keptBytes(properties),
                        properties.steps().maxItems(),
                        properties.steps().maxItemsSize().toBytes()),
                parsed::increment,
                new WorkflowCalls.Store() {
                    @Override
                    public Optional<SubRuns.Child> child(long runId, String step) {
                        return subRuns.child(runId, step);
                    }

                    @Override
                    public SubRuns.Started start(ClaimedJob job, long workflow, String payload, Instant now) {
                        return subRuns.start(job, workflow, payload, now);
                    }

                    @Override
                    public Optional<SubRuns.Result> result(long childRunId) {
                        return subRuns.result(childRunId);
                    }

                    @Override
                    public List<SubRuns.StepResult> steps(long childRunId) {
                        return subRuns.steps(childRunId);
                    }
                },
                new Loops.Store() {
                    @Override
                    public boolean expand(ClaimedJob job, String itemsJson, int concurrency, Instant now) {
                        return items.expand(job, itemsJson, concurrency, now);
                    }

                    @Override
                    public List<Items.Item> of(long runId, String step) {
                        return items.of(runId, step);
                    }

                    @Override
                    public Optional<String> value(long runId, String itemKey) {
                        return items.value(runId, itemKey);
                    }
                },
                new AttemptPipeline.Callbacks() {
                    @Override
                    public Optional<String> posted(long runId, String step) {
                        return resumes.posted(runId, step);
                    }

                    @Override
                    public String url(long runId, String step) {
                        return urls.base() + "/resume/" + tokens.token(runId, step);
                    }

                    @Override
                    public void approvalBegins(ClaimedJob job, List<String> roles, String message) {
                        if (resumes.approvalBegins(job.runId(), job.step(), roles, message)) {
                            pushes.approvalWaiting(new PushNotifications.ApprovalWaiting(
                                    job.workspaceId(), job.runId(), job.workflowName(), job.step(), roles, message));
                        }
                    }

                    @Override
                    public void timedOut(long runId, String step) {
                        resumes.timedOut(runId, step);
                    }
                });
    }

    /** How much of a step's response is kept for the steps that need it. */
    static int keptBytes(KiKonectProperties properties) {
        return (int) Math.min(
                Integer.MAX_VALUE - 1, properties.delivery().maxKeptResponse().toBytes());
    }
}
