package dev.kikonect;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.catalina.util.ServerInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;

/** The security overrides in pom.xml are what actually runs (a managed version cannot silently win again). */
class DependencyVersionsTest {

    private static int[] version(String text) {
        String[] parts = text.replaceAll("[^0-9.].*$", "").split("\\.");
        int[] out = new int[3];
        for (int i = 0; i < Math.min(3, parts.length); i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static boolean atLeast(String actual, int major, int minor, int patch) {
        int[] v = version(actual);
        return v[0] != major ? v[0] > major : v[1] != minor ? v[1] > minor : v[2] >= patch;
    }

    @Test
    void tomcat_is_at_least_11_0_23() {
        String tomcat = ServerInfo.getServerNumber();
        assertThat(atLeast(tomcat, 11, 0, 23)).as("Tomcat " + tomcat).isTrue();
    }

    @Test
    void bouncy_castle_is_at_least_1_84() {
        String bc = new BouncyCastleProvider().getVersionStr();
        assertThat(atLeast(bc, 1, 84, 0)).as("Bouncy Castle " + bc).isTrue();
    }
}
