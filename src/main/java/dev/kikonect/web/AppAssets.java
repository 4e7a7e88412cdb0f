package dev.kikonect.web;

import java.time.Duration;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.CacheControl;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The web app's files: Vite names every built asset by its content hash, so {@code /app/assets/*} are cached for a
 * year as immutable; the page itself ({@code /app/index.html}) and the manifest are asked for again each time, so a
 * new version is picked up at the next load. Compression: application.properties ({@code server.compression.*}).
 */
@Configuration(proxyBeanMethods = false)
class AppAssets implements WebMvcConfigurer {

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/app/assets/**")
                .addResourceLocations("classpath:/static/app/assets/")
                .setCacheControl(
                        CacheControl.maxAge(Duration.ofDays(365)).cachePublic().immutable());
        registry.addResourceHandler("/app/**")
                .addResourceLocations("classpath:/static/app/")
                .setCacheControl(CacheControl.noCache());
    }
}
