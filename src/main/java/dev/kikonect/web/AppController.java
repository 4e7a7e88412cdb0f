package dev.kikonect.web;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/** The web app (web/, built into the jar) lives at /app/; the root sends browsers there. */
@Controller
@PublicEndpoint
class AppController {

    @GetMapping("/")
    String root() {
        return "redirect:/app/";
    }

    @GetMapping("/app")
    String app() {
        return "redirect:/app/";
    }

    @GetMapping("/app/")
    String index() {
        return "forward:/app/index.html";
    }
}
