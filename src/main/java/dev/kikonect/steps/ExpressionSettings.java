package dev.kikonect.steps;

import dev.kikonect.KiKonectProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/** Sizes the node's {@link ExpressionSandbox} from {@code kikonect.expressions.*} at start-up and shows its queue. */
@Component
class ExpressionSettings {

    ExpressionSettings(KiKonectProperties properties, MeterRegistry meters) {
        KiKonectProperties.Expressions e = properties.expressions();
        int threads =
                e.threads() > 0 ? e.threads() : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        ExpressionSandbox.configure(new ExpressionSandbox.Settings(
                threads,
                Math.max(1, e.queue()),
                e.queueWait(),
                new ExpressionBudget.Limits(e.cpuTime(), e.work(), e.memory().toBytes(), e.maxDepth(), e.wallTime())));
        Gauge.builder(
                        "kikonect.expressions.queued",
                        () -> ExpressionSandbox.shared().queued())
                .description("Expression evaluations waiting for a sandbox thread")
                .register(meters);
    }
}
