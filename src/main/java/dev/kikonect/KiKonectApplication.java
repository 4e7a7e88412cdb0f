package dev.kikonect;

import dev.kikonect.cli.Cli;
import dev.kikonect.common.AlignedClock;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

/** Entry point: one process serving the API, the scheduler and the executor (see {@code kikonect.roles}). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class KiKonectApplication {

    /** Starts the server; {@code kikonect login|workflows|runs ...} runs the command line client instead. */
    public static void main(String[] args) {
        if (args.length > 0 && Cli.COMMANDS.contains(args[0])) {
            PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
            PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
            System.exit(Cli.run(args, out, err, Cli.defaultConfig()));
        }
        SpringApplication.run(KiKonectApplication.class, args);
    }

    /**
     * All scheduling and execution logic reads time from this clock; tests replace it with a settable one. It ticks in
     * whole microseconds, the database's precision: PostgreSQL rounds a bound timestamp to the nearest microsecond, so
     * a nanosecond "now" of 08:59:59.9999996 compared as 09:00:00.000000 and fired a 09:00 slot 400 ns early (seen as
     * a negative scheduler lag). Truncated, "now" is never later in the database than in Java. It follows the
     * database's clock when this node's clock is off by more than a second ({@link dev.kikonect.common.AlignedClock}).
     */
    @Bean
    AlignedClock clock() {
        return new AlignedClock();
    }
}
