package dev.kikonect;

import java.time.Clock;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

/** Entry point: one process serving the API, the scheduler and the executor (see {@code kikonect.roles}). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class KiKonectApplication {

  public static void main(String[] args) {
    SpringApplication.run(KiKonectApplication.class, args);
  }

  /** All scheduling and execution logic reads time from this clock; tests replace it with a settable one. */
  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }
}
