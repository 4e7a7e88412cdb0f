package dev.kikonect.web;

import java.io.IOException;
import java.io.Writer;
import org.apache.catalina.Host;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Requests so malformed that Tomcat answers them itself (a bad request line, an invalid %-escape) never reach
 * Spring; this replaces Tomcat's HTML error page with the same problem+json as every other error.
 */
@Component
class TomcatErrors implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addContextCustomizers(context -> {
            if (context.getParent() instanceof Host host && host instanceof StandardHost standard) {
                standard.setErrorReportValveClass(ProblemValve.class.getName());
            }
        });
    }

    /** Tomcat's error report, as problem+json. */
    public static class ProblemValve extends ErrorReportValve {
        @Override
        protected void report(Request request, Response response, Throwable throwable) {
            int status = response.getStatus();
            if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
                return;
            }
            try {
                response.setContentType("application/problem+json");
                response.setCharacterEncoding("UTF-8");
                String title = status >= 500 ? "Internal error" : "Bad request";
                Writer writer = response.getReporter();
                if (writer != null) {
                    writer.write("{\"type\":\"" + Problems.TYPE_BASE + "http-" + status + "\",\"title\":\"" + title
                            + "\",\"status\":" + status + ",\"detail\":\"The request could not be processed (HTTP "
                            + status + ").\"}");
                }
            } catch (IOException | IllegalStateException e) {
                // the client went away; nothing to tell it
            }
        }
    }
}
