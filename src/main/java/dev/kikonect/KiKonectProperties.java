package dev.kikonect;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Every {@code kikonect.*} setting, with its default. The README's configuration table mirrors this class.
 *
 * @param dataDir where the embedded PostgreSQL keeps its data (only used without {@code spring.datasource.url})
 * @param embeddedDbPort the embedded PostgreSQL's port on localhost; 0 picks a free one
 * @param publicBaseUrl base of the absolute webhook URLs handed to users; empty means http://localhost:PORT
 * @param roles what this node does: any of api, scheduler, executor
 */
@ConfigurationProperties("kikonect")
public record KiKonectProperties(
        @DefaultValue("./data") Path dataDir,
        @DefaultValue("0") int embeddedDbPort,
        @DefaultValue("") String publicBaseUrl,
        @DefaultValue({"api", "scheduler", "executor"}) Set<String> roles,
        @DefaultValue Auth auth,
        @DefaultValue Delivery delivery,
        @DefaultValue Executor executor,
        @DefaultValue Scheduler scheduler,
        @DefaultValue Retention retention,
        @DefaultValue Quotas quotas,
        @DefaultValue Secrets secrets,
        @DefaultValue Audit audit,
        @DefaultValue Workspaces workspaces,
        @DefaultValue Expressions expressions,
        @DefaultValue Steps steps,
        @DefaultValue Map<String, Oidc> oidc) {

    /**
     * Limits of what one step may do.
     *
     * @param maxItems the most items a {@code for_each} may give; more is the step's error (each item is a run_steps
     *     row and a delivery of its own)
     * @param maxItemsSize the most its items may take as JSON; more is the step's error (checked as the text is written,
     *     so a thousand references to one large payload are refused before they take memory)
     * @param maxGatheredResponse the most of the items' responses (bodies and headers) the steps after a loop read, in
     *     item order; the responses of the items past it are left out (their {@code response_cut} is true)
     */
    public record Steps(
            @DefaultValue("1000") int maxItems,
            @DefaultValue("4MB") DataSize maxItemsSize,
            @DefaultValue("4MB") DataSize maxGatheredResponse) {}

    /**
     * The expression sandbox: every JSONata expression (filter, when, body, template, dry run) runs on one of its threads
     * within a budget that the engine's operators and the looping built-ins honour; the worst expression fails itself.
     *
     * @param threads evaluating threads; 0: half the cores, at least one (the other half stays for requests)
     * @param queue evaluations waiting for a thread at most; past it, or after {@code queueWait}, "busy" (a webhook gets
     *     503 with Retry-After, a delivery goes back to the queue without spending an attempt)
     * @param queueWait how long an evaluation waits for a thread
     * @param cpuTime CPU time of one evaluation (its thread's, so a busy machine does not count against it)
     * @param work steps of one evaluation (each step of the engine, range items, items built-ins loop over)
     * @param memory bytes one evaluation may allocate (cumulative, as the JVM counts them per thread)
     * @param maxDepth nesting of evaluation (recursion)
     * @param wallTime a backstop on the wall clock
     */
    public record Expressions(
            @DefaultValue("0") int threads,
            @DefaultValue("1024") int queue,
            @DefaultValue("5s") Duration queueWait,
            @DefaultValue("100ms") Duration cpuTime,
            @DefaultValue("2000000") long work,
            @DefaultValue("32MB") DataSize memory,
            @DefaultValue("200") int maxDepth,
            @DefaultValue("2s") Duration wallTime) {}

    /**
     * One OpenID Connect identity provider for single sign-on: {@code kikonect.oidc.<id>.*}.
     *
     * @param name shown on the login page ("Sign in with <name>"); default the id
     * @param issuerUri the issuer; its /.well-known/openid-configuration is read at the first sign-in
     * @param clientId the client registered at the provider, with redirect URI {@code <public-base-url>/sso/<id>/callback}
     * @param clientSecret its secret
     * @param allowedDomains email domains that may sign in (empty: any)
     * @param scopes requested scopes
     * @param trustEmail accept an email without {@code email_verified: true} (providers that never send the claim)
     */
    public record Oidc(
            String name,
            String issuerUri,
            String clientId,
            String clientSecret,
            @DefaultValue List<String> allowedDomains,
            @DefaultValue({"openid", "email", "profile"}) List<String> scopes,
            @DefaultValue("false") boolean trustEmail) {}

    /** @param retention how long audit entries are kept */
    public record Audit(@DefaultValue("365d") Duration retention) {}

    /**
     * @param maxOwned workspaces one user may create (their personal one included)
     * @param maxMembers members one workspace may have
     * @param maxPendingInvitations unaccepted, unexpired invitations one workspace may have at once
     * @param invitationTtl how long an invitation link works
     */
    public record Workspaces(
            @DefaultValue("20") int maxOwned,
            @DefaultValue("1000") int maxMembers,
            @DefaultValue("100") int maxPendingInvitations,
            @DefaultValue("7d") Duration invitationTtl) {}

    /**
     * The master key that encrypts credentials at rest (AES-256-GCM).
     *
     * @param masterKey base64 of 32 random bytes ({@code openssl rand -base64 32}); or
     * @param masterKeyFile a file holding that base64 text. Neither, on the embedded database: {@code
     *     <data-dir>/master.key}, generated on first start (mode 0600). Neither, on an external database: no start.
     * @param previousMasterKeys keys that encrypted values before a rotation: they decrypt, and every value is moved to
     *     the current key at start-up
     */
    public record Secrets(
            String masterKey,
            Path masterKeyFile,
            @DefaultValue List<String> previousMasterKeys) {}

    /**
     * @param succeeded how long succeeded runs (with their attempts) are kept
     * @param failed how long failed, cancelled and skipped runs are kept
     * @param interval how often the pruning runs
     * @param partitionRuns run ids per history partition (retention drops whole partitions: about a day of runs is
     *     a good size)
     * @param partitionsAhead empty partitions kept above the run-id sequence
     */
    public record Retention(
            @DefaultValue("30d") Duration succeeded,
            @DefaultValue("90d") Duration failed,
            @DefaultValue("10m") Duration interval,
            @DefaultValue("1000000") long partitionRuns,
            @DefaultValue("4") int partitionsAhead) {}

    public KiKonectProperties {
        for (String role : roles) {
            if (!Set.of("api", "scheduler", "executor", "none").contains(role)) {
                throw new IllegalArgumentException(
                        "kikonect.roles: unknown role '" + role + "'; use api, scheduler, executor (or none)");
            }
        }
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /**
     * @param tokenTtl how long a login token stays valid
     * @param maxFailuresPerAccount failed logins for one email (within 15 minutes) before it is locked for
     *     {@code lockout}
     * @param maxFailuresPerAddress failed logins from one client address (within 15 minutes) before it is locked
     * @param lockout how long a locked email or address gets 429
     * @param registration who may create an account with POST /register: {@code open} (anyone), {@code invitation}
     *     or {@code invite} (only with an open invitation for that email address) or {@code closed} (nobody; single
     *     sign-on still creates the users its provider admits). The first account of an instance may always register
     *     (it becomes the instance administrator); an instance administrator can override this at run time.
     */
    public record Auth(
            @DefaultValue("7d") Duration tokenTtl,
            @DefaultValue("10") int maxFailuresPerAccount,
            @DefaultValue("100") int maxFailuresPerAddress,
            @DefaultValue("1m") Duration lockout,
            @DefaultValue("open") String registration) {
        public Auth {
            if ("invite".equals(registration)) {
                registration = "invitation"; // the short spelling reads as well
            }
            if (!Set.of("open", "invitation", "closed").contains(registration)) {
                throw new IllegalArgumentException("kikonect.auth.registration: '" + registration
                        + "'; use open, invitation (or invite) or closed");
            }
        }
    }

    /**
     * @param timeout how long one delivery attempt may take, connect to end of response
     * @param maxAttempts attempts per run unless the workflow sets max_attempts
     * @param retryDelays the wait before attempt 2, 3, ...; the last one repeats; each gets +-20% jitter
     * @param maxRetryAfter the longest Retry-After (seconds or HTTP date) that is honoured as given
     * @param allowPrivateNetworks deliver to loopback, private, link-local... addresses too (SSRF guard off)
     * @param allowedCidrs address blocks allowed although not public, e.g. 10.1.0.0/16
     */
    public record Delivery(
            @DefaultValue("10s") Duration timeout,
            @DefaultValue("8") int maxAttempts,

            @DefaultValue({"5s", "1m", "5m", "30m", "2h", "6h", "14h"})
            List<Duration> retryDelays,

            @DefaultValue("6h") Duration maxRetryAfter,
            @DefaultValue("false") boolean allowPrivateNetworks,
            @DefaultValue List<String> allowedCidrs,
            @DefaultValue("256KB") DataSize maxKeptResponse) {}

    /**
     * @param concurrency deliveries in flight at once on this node (each on its own virtual thread)
     * @param batchSize jobs claimed per claim statement
     * @param pollInterval how often an idle executor looks for work enqueued by other nodes
     * @param leaseDuration how long a claimed job belongs to this node unless renewed; renewed every third of it
     * @param sweepInterval how often expired leases (of crashed nodes) are returned to the queue
     * @param shutdownGrace how long a stopping node lets in-flight deliveries finish before handing them back
     * @param memoryBudget bytes the deliveries in flight may hold: their payloads plus 16 KiB each for the exchange
     *     (at least 4 MiB: room for one largest payload)
     * @param perOwnerConcurrency deliveries of one owner in flight at once on this node; past it, claims pass that
     *     owner's jobs over for the next owner's (fair share: one owner's backlog or hanging receivers cannot hold
     *     every delivery slot)
     * @param perOwnerMemory bytes of the memory budget one owner's deliveries may hold on this node (at least one largest
     *     payload); past it, claims pass that owner's jobs over: one workspace's backlog of large payloads to a receiver
     *     that hangs leaves the rest of the budget to the others
     * @param ownerConcurrency per-owner exceptions to {@code perOwnerConcurrency}, by workspace id (the owner of workflows):
     *     {@code kikonect.executor.owner-concurrency.42=1000}
     * @param perHostConcurrency deliveries to one receiver (host and port) in flight at once on this node; more wait their turn
     *     (up to a delivery timeout, then back to the queue without spending an attempt)
     */
    public record Executor(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("1024") int concurrency,
            @DefaultValue("64") int batchSize,
            @DefaultValue("250ms") Duration pollInterval,
            @DefaultValue("30s") Duration leaseDuration,
            @DefaultValue("10s") Duration sweepInterval,
            @DefaultValue("30s") Duration shutdownGrace,
            @DefaultValue("64MB") DataSize memoryBudget,
            @DefaultValue("256") int perOwnerConcurrency,
            @DefaultValue("16MB") DataSize perOwnerMemory,
            @DefaultValue Map<Long, Integer> ownerConcurrency,
            @DefaultValue("256") int perHostConcurrency) {}

    /**
     * @param pollInterval how often the scheduler looks for due interval and cron workflows
     * @param batchSize due workflows claimed per transaction
     * @param misfireThreshold a firing later than this (or one whose next slot is also past) is a misfire, handled
     *     by the workflow's misfire policy
     */
    /**
     * Limits per owner (a workspace), so that one workspace cannot fill the database or the scheduler. Past one: 429 problem+json
     * naming the quota (a cron expression that fires too often: 400 naming the field).
     *
     * @param maxWorkflows workflows one user may have
     * @param maxApiKeys API keys one user may have (revoked ones do not count)
     * @param minCronInterval the shortest gap between two firings of a cron workflow (six-field expressions may fire
     *     every second otherwise)
     */
    public record Quotas(
            @DefaultValue("10000") int maxWorkflows,
            @DefaultValue("100") int maxApiKeys,
            @DefaultValue("10s") Duration minCronInterval,
            @DefaultValue("60000") long runsPerMinute,
            @DefaultValue("100") int maxSessions,
            @DefaultValue("10000") int maxBulkReplay) {}

    public record Scheduler(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("250ms") Duration pollInterval,
            @DefaultValue("500") int batchSize,
            @DefaultValue("1m") Duration misfireThreshold) {}
}
