# Throwaway services for the tests, sourced by .ci/run (and runnable on its own, see below).
# Each start_* records what it started; stop_services stops exactly that, nothing else, so an engine or
# server that was already running (and may be shared) is never touched.
#
#   start_postgres  a PostgreSQL 15 cluster as the `postgres` user, on a unix socket in a temp dir only
#                   (listen_addresses=''), exports STELLA_TEST_PG=postgres://postgres@/postgres?host=DIR
#   start_docker2   a second dockerd on unix:///run/stella-docker2.sock (or $STELLA_DOCKER2_SOCK) with its own data-root, exec-root
#                   and pidfile, no bridge/iptables; exports STELLA_TEST_DOCKER2=unix:///run/stella-docker2.sock
#   start_sshd      sshd on 127.0.0.1:STELLA_TEST_SSH_PORT, key auth only, host and client keys generated in
#                   a temp dir; exports STELLA_TEST_SSH_PORT, STELLA_TEST_SSH_KEY, STELLA_TEST_SSH_USER
#
# Stand-alone check:  bash -c 'source .ci/services.sh; trap stop_services EXIT; start_postgres; start_docker2; start_sshd'

STELLA_SVC_PIDS=()      # "name:pid" of every daemon started here
STELLA_SVC_DIRS=()      # temp dirs to remove after their daemon stopped
STELLA_PG_DATA=""

svc_log() { printf '   [%ss] %s\n' "$SECONDS" "$*"; }

# Run a command as the postgres system user (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin=/usr/lib/postgresql/15/bin dir
  [ -x "$bin/initdb" ] || { echo "PostgreSQL 15 not installed ($bin/initdb missing)"; return 1; }
  dir=$(mktemp -d /tmp/stella-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  STELLA_SVC_DIRS+=("$dir")
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { tail -20 "$dir/initdb.log"; return 1; }
  # Socket in the temp dir only, no TCP; fsync off: the cluster dies with the run.
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { tail -20 "$dir/server.log"; return 1; }
  STELLA_PG_DATA="$dir/data"
  export STELLA_TEST_PG="postgres://postgres@/postgres?host=$dir"
  "$bin/psql" -qAt -d "$STELLA_TEST_PG" -c 'select version()' | cut -c1-40
  svc_log "postgres up: STELLA_TEST_PG=$STELLA_TEST_PG"
}

start_docker2() {
  local sock=${STELLA_DOCKER2_SOCK:-/run/stella-docker2.sock} dir pid
  export STELLA_TEST_DOCKER2="unix://$sock"
  if DOCKER_HOST="$STELLA_TEST_DOCKER2" docker info >/dev/null 2>&1; then
    svc_log "second engine already answers on $sock (reused, not stopped)"
    return 0
  fi
  dir=$(mktemp -d /tmp/stella-docker2.XXXXXX)
  STELLA_SVC_DIRS+=("$dir")
  # Its own data-root, exec-root (so its own managed containerd) and pidfile; no bridge, no iptables:
  # containers on it only ever get NetworkMode none, like on the first engine.
  dockerd -H "$STELLA_TEST_DOCKER2" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false >"$dir/dockerd.log" 2>&1 &
  pid=$!
  STELLA_SVC_PIDS+=("docker2:$pid")
  for _ in $(seq 1 120); do
    DOCKER_HOST="$STELLA_TEST_DOCKER2" docker info >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  DOCKER_HOST="$STELLA_TEST_DOCKER2" docker info >/dev/null 2>&1 \
    || { echo "second dockerd did not start"; tail -20 "$dir/dockerd.log"; return 1; }
  svc_log "second engine up: STELLA_TEST_DOCKER2=$STELLA_TEST_DOCKER2 (pid $pid)"
}

free_port() {
  local p
  for p in $(seq "${1:-2299}" 2399); do
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  return 1
}

start_sshd() {
  local dir port pid
  dir=$(mktemp -d /tmp/stella-sshd.XXXXXX)
  STELLA_SVC_DIRS+=("$dir")
  port=$(free_port 2299) || { echo "no free port for sshd"; return 1; }
  ssh-keygen -q -t ed25519 -N '' -C stella-ci-host -f "$dir/host_ed25519" </dev/null
  ssh-keygen -q -t ed25519 -N '' -C stella-ci-client -f "$dir/client_ed25519" </dev/null
  cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys"
  mkdir -p /run/sshd 2>/dev/null || true
  cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
EOF
  /usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
  pid=$!
  STELLA_SVC_PIDS+=("sshd:$pid")
  for _ in $(seq 1 40); do
    ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$dir/client_ed25519" \
      -p "$port" "$(id -un)@127.0.0.1" true 2>/dev/null && break
    sleep 0.25
  done
  ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$dir/client_ed25519" \
    -p "$port" "$(id -un)@127.0.0.1" true || { echo "sshd did not accept the client key"; tail -20 "$dir/sshd.log"; return 1; }
  export STELLA_TEST_SSH_PORT="$port" STELLA_TEST_SSH_KEY="$dir/client_ed25519" STELLA_TEST_SSH_USER="$(id -un)"
  svc_log "sshd up: 127.0.0.1:$port (pid $pid), key $STELLA_TEST_SSH_KEY"
}

# Stop what start_* started, newest first, then remove their temp dirs.
stop_services() {
  local i entry pid
  if [ -n "$STELLA_PG_DATA" ]; then
    as_postgres /usr/lib/postgresql/15/bin/pg_ctl -D "$STELLA_PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    STELLA_PG_DATA=""
  fi
  for ((i = ${#STELLA_SVC_PIDS[@]} - 1; i >= 0; i--)); do
    entry=${STELLA_SVC_PIDS[$i]}
    pid=${entry#*:}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  STELLA_SVC_PIDS=()
  for i in "${STELLA_SVC_DIRS[@]}"; do rm -rf "$i" 2>/dev/null || true; done
  STELLA_SVC_DIRS=()
}
