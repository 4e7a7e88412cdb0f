package dev.kikonect.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scope a handler needs (on a method, or on its controller class). Without it: {@link Scope#READ} for GET and
 * HEAD, {@link Scope#WRITE} for everything else.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Scoped {
    Scope value();
}
