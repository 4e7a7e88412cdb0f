package dev.kikonect.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a handler that acts on the signed-in user, not in a workspace ({@code /me}, {@code /workspaces}, accepting an
 * invitation...): no {@code KiKonect-Workspace} is resolved, and only the token's {@link Scope} is checked.
 * {@code sessionOnly} refuses API keys (403 {@code session-required}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface UserLevel {
    boolean sessionOnly() default false;
}
