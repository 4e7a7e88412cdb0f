# Sourced by ./kikonect, bin/test and the bench scripts.

# Prints the home of a Java >= 21 that can run KiKonect: JAVA_HOME when it is one (the operator's choice), else the
# newest under /usr/lib/jvm. A JRE is enough (a release runs on one). `java` on PATH may well be 17, which cannot run
# KiKonect's Java 21 bytecode. With --jdk, only a JDK (with javac) counts.
find_java() {
  local best="" best_version=0 candidate version
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    [ "${1:-}" != --jdk ] || [ -x "$candidate/bin/javac" ] || continue
    version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    version=${version%%.*}
    if [ "${version:-0}" -ge 21 ] && [ "$candidate" = "${JAVA_HOME:-}" ]; then
      echo "$candidate"
      return 0
    fi
    if [ "${version:-0}" -ge 21 ] && [ "$version" -gt "$best_version" ]; then
      best=$candidate
      best_version=$version
    fi
  done
  [ -n "$best" ] && echo "$best"
}

# As find_java, but a JDK (with javac): for what builds or compiles (the bench programs, the Java client).
find_jdk() {
  find_java --jdk
}

# Builds target/kikonect.jar when it is missing or older than the sources. The jar's own mtime is pinned by the
# reproducible build, so a stamp file records when it was built.
ensure_built() {
  local jar=target/kikonect.jar stamp=target/.kikonect-built
  if [ ! -f "$jar" ] || [ ! -f "$stamp" ] || [ -n "$(find pom.xml src web -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
    echo "Building KiKonect (mvn -DskipTests package)..." >&2
    mvn -B -q -DskipTests package
    touch "$stamp"
  fi
}

# Extracts target/kikonect.jar into target/app (the application jar plus lib/, as the container image runs it) and
# writes the JDK's AOT cache from a training start, when the jar is newer than the extraction. Run from a nested jar,
# a cold start once hung with Tomcat's virtual threads blocked in NestedJarFile class loading and both carriers taken
# (spring-boot issues 51379, 51463); extracted, classes come from plain jars, and the AOT cache loads most of them
# before main. A failed training run leaves no cache: KiKonect then starts without one.
ensure_extracted() {
  local jdk=$1 app=target/app stamp=target/app/.extracted
  if [ -f "$stamp" ] && [ ! target/kikonect.jar -nt "$stamp" ] && [ ! target/.kikonect-built -nt "$stamp" ]; then
    return 0
  fi
  echo "Preparing target/app: the jar extracted, and an AOT cache from a training start (once per build)..." >&2
  rm -rf "$app"
  "$jdk/bin/java" -Djarmode=tools -jar target/kikonect.jar extract --destination "$app" >/dev/null
  local training
  training=$(mktemp -d /tmp/kikonect-training.XXXXXX)
  if ! "$jdk/bin/java" -XX:AOTCacheOutput="$app/kikonect.aot" -Dspring.context.exit=onRefresh -jar "$app/kikonect.jar" \
      --kikonect.data-dir="$training" --server.port=0 >"$training.log" 2>&1; then
    echo "(the AOT training start failed, see $training.log: starting without the cache)" >&2
    rm -f "$app/kikonect.aot"
  else
    rm -f "$training.log"
  fi
  rm -rf "$training"
  touch "$stamp"
}

# How to start the jar $1, one argument per line: the project's own target/kikonect.jar as ./kikonect runs it (the
# extraction in target/app with its AOT cache, when ensure_extracted made it for this build: half the start-up),
# any other jar as it is. Use: mapfile -t launch < <(launch_args "$jar"); java "${launch[@]}" ...
launch_args() {
  local jar=$1 stamp=target/app/.extracted
  if [ "$(realpath -m "$jar")" = "$(realpath -m target/kikonect.jar)" ] && [ -f "$stamp" ] && [ -f target/app/kikonect.aot ] \
      && [ ! target/kikonect.jar -nt "$stamp" ] && [ ! target/.kikonect-built -nt "$stamp" ]; then
    printf '%s\n' "-XX:AOTCache=$PWD/target/app/kikonect.aot" -jar "$PWD/target/app/kikonect.jar"
  else
    printf '%s\n' -jar "$jar"
  fi
}

# The bench programs parse KiKonect's JSON with the project's own Jackson: prints a class path holding it (resolved
# by Maven once, then cached in target/).
bench_classpath() {
  local file=target/bench-classpath.txt
  if [ ! -s "$file" ] || [ pom.xml -nt "$file" ]; then
    mkdir -p target
    mvn -B -q dependency:build-classpath -DincludeGroupIds=tools.jackson.core,com.fasterxml.jackson.core \
      -Dmdep.outputFile="$PWD/$file" >/dev/null
  fi
  cat "$file"
}

# Prints a TCP port nothing uses now, below the kernel's ephemeral range (32768 and up here), where outgoing
# connections take their local ports: a random port up there can be taken by one of them at any moment (a
# deploy/check in CI once failed to bind one an outgoing connection held).
free_port() {
  local low=${1:-20000} high=${2:-32000} port
  for _ in $(seq 1 50); do
    port=$(shuf -i "$low-$high" -n 1)
    if [ -z "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ]; then
      echo "$port"
      return 0
    fi
  done
  echo "free_port: no free port between $low and $high" >&2
  return 1
}
