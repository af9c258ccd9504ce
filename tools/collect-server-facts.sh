#!/bin/sh
# Collects what the Riva readiness suite needs to judge the memory sizing of this CRM host (R2.3):
# RAM and swap, the Apache MPM and its worker limits, keep-alive, the memory its PHP workers
# use (Apache children with mod_php, or PHP-FPM children), PHP's memory_limit and opcode cache.
#
# Run it on the CRM host, as the CRM's administrator; root is not needed where the web server's
# configuration and the process list are readable. It reads only: nothing is changed or restarted.
#
#   sh collect-server-facts.sh [-o FILE] [--apachectl CMD] [--config FILE] [--php CMD]
#                              [--php-ini-dir DIR] [--fpm-pool-dir DIR]
#
#   -o FILE           where to write the facts (default: riva-server-facts.json here)
#   --apachectl CMD   apache2ctl, apachectl, httpd or apache2 (default: the first one found)
#   --config FILE     Apache's main configuration file, when it is not the compiled-in one
#   --php CMD         the PHP command line binary (default: php; "none" reads php.ini files instead)
#   --php-ini-dir DIR the folder of the php.ini the web server's PHP uses (default: found from Apache)
#   --fpm-pool-dir DIR the folder of PHP-FPM's pool files (default: the usual places)
#
# Copy FILE to the Riva host and set READINESS_SERVER_FACTS to its path. A fact that cannot be
# found is written as null, with the reason under "unavailable".

set -u
LC_ALL=C
export LC_ALL
PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin:/usr/local/apache2/bin"

OUT=riva-server-facts.json
CTL=
CONFIG=
PHP=php
PHP_INI_DIR=
FPM_POOL_DIR=
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--output) OUT=$2; shift ;;
        --apachectl) CTL=$2; shift ;;
        --config) CONFIG=$2; shift ;;
        --php) PHP=$2; shift ;;
        --php-ini-dir) PHP_INI_DIR=$2; shift ;;
        --fpm-pool-dir) FPM_POOL_DIR=$2; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "collect-server-facts: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/riva-facts.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
UNAVAILABLE=

# -- helpers -------------------------------------------------------------------------------------

json_str() {  # a JSON string: backslashes and quotes escaped, control characters dropped
    printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

unknown() {  # unknown NAME REASON: the fact stays null and the reason is reported
    UNAVAILABLE="$UNAVAILABLE${UNAVAILABLE:+,}
    $(json_str "$1"): $(json_str "$2")"
}

value_or_null() {  # a number or true/false as is, else null
    if [ -n "$1" ]; then printf '%s' "$1"; else printf 'null'; fi
}

text_or_null() {
    if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi
}

found() { command -v "$1" >/dev/null 2>&1; }

# -- memory -----------------------------------------------------------------------------------------

RAM_MB='' SWAP_MB='' SWAP_USED_MB=''
if [ -r /proc/meminfo ]; then
    eval "$(awk '/^MemTotal:/ {printf "RAM_MB=%d\n", $2/1024}
                 /^SwapTotal:/ {t=$2; printf "SWAP_MB=%d\n", $2/1024}
                 /^SwapFree:/ {f=$2}
                 END {if (t != "") printf "SWAP_USED_MB=%d\n", (t-f)/1024}' /proc/meminfo)"
elif found sysctl && BYTES=$(sysctl -n hw.physmem 2>/dev/null || sysctl -n hw.memsize 2>/dev/null); then
    RAM_MB=$((BYTES / 1048576))
    unknown swap_mb "no /proc/meminfo on this system"
    unknown swap_used_mb "no /proc/meminfo on this system"
else
    unknown ram_mb "neither /proc/meminfo nor sysctl hw.physmem is readable"
fi

# -- Apache -----------------------------------------------------------------------------------------

if [ -z "$CTL" ]; then
    for candidate in apache2ctl apachectl httpd apache2; do
        if found "$candidate"; then CTL=$candidate; break; fi
    done
fi
apache() {  # the Apache control command with the configuration file, if one was given
    if [ -n "$CONFIG" ]; then "$CTL" -f "$CONFIG" "$@"; else "$CTL" "$@"; fi
}

WEB_SERVER='' MPM='' MAX_WORKERS='' SERVER_LIMIT='' THREADS='' KEEP_ALIVE='' KEEP_ALIVE_TIMEOUT='' PHP_HANDLER=''
PID_FILE='' SERVER_ROOT='' APACHE_OK=''
if [ -z "$CTL" ] || ! found "$CTL"; then
    NO_APACHE="no Apache control command found (apache2ctl, apachectl, httpd, apache2): give it with --apachectl"
elif ! apache -V >"$WORK/V" 2>"$WORK/V.err"; then
    NO_APACHE="$CTL -V failed: $(head -n 1 "$WORK/V.err")"
else
    APACHE_OK=1
    WEB_SERVER=$(sed -n 's/^Server version: *//p' "$WORK/V")
    MPM=$(sed -n 's/^Server MPM: *//p' "$WORK/V" | tr '[:upper:]' '[:lower:]' | tr -d ' ')
    apache -M >"$WORK/M" 2>/dev/null
    apache -t -D DUMP_RUN_CFG >"$WORK/R" 2>/dev/null
    PID_FILE=$(sed -n 's/^PidFile: *"\{0,1\}\([^"]*\)"\{0,1\}.*/\1/p' "$WORK/R")
    SERVER_ROOT=$(sed -n 's/^ServerRoot: *"\{0,1\}\([^"]*\)"\{0,1\}.*/\1/p' "$WORK/R")
    case "$PID_FILE" in /*|'') ;; *) PID_FILE="$SERVER_ROOT/$PID_FILE" ;; esac
    if grep -Eq '^ *php[0-9_]*_module' "$WORK/M"; then
        PHP_HANDLER=mod_php
    elif grep -q 'proxy_fcgi_module' "$WORK/M"; then
        PHP_HANDLER=php-fpm
    fi
fi

# The configuration as Apache reads it: mod_info's dump (includes and <IfModule> resolved by
# Apache itself), or else the files followed here, include by include.
flatten() {  # flatten FILE: the file with its Include/IncludeOptional lines replaced by the files
    [ -r "$1" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        set -f  # split the line into words without expanding * in them
        # shellcheck disable=SC2086
        set -- $line
        set +f
        case "${1:-}" in
            [Ii]nclude|[Ii]nclude[Oo]ptional)
                pattern=$(printf '%s' "${2:-}" | tr -d '"')
                case "$pattern" in /*) ;; *) pattern="$SERVER_ROOT/$pattern" ;; esac
                for included in $pattern; do
                    if [ -d "$included" ]; then
                        for inner in "$included"/*; do flatten "$inner"; done
                    else
                        flatten "$included"
                    fi
                done ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <"$1"
}

if [ -n "$APACHE_OK" ]; then
    if grep -q 'info_module' "$WORK/M"; then
        apache -t -D DUMP_CONFIG >"$WORK/C" 2>/dev/null
    else
        for so in "$SERVER_ROOT/modules/mod_info.so" /usr/lib/apache2/modules/mod_info.so \
                  /usr/lib64/httpd/modules/mod_info.so /usr/lib/httpd/modules/mod_info.so \
                  /usr/lib64/apache2/mod_info.so /usr/libexec/apache2/mod_info.so /usr/local/apache2/modules/mod_info.so; do
            if [ -r "$so" ] && [ -z "${RIVA_FACTS_NO_DUMP:-}" ]; then
                apache -C "LoadModule info_module $so" -t -D DUMP_CONFIG >"$WORK/C" 2>/dev/null
                break
            fi
        done
    fi
    if ! grep -q '^# In file:' "$WORK/C" 2>/dev/null; then  # no dump: read the files ourselves
        MAIN=$CONFIG
        if [ -z "$MAIN" ]; then
            root=$(sed -n 's/.*HTTPD_ROOT="\([^"]*\)".*/\1/p' "$WORK/V")
            file=$(sed -n 's/.*SERVER_CONFIG_FILE="\([^"]*\)".*/\1/p' "$WORK/V")
            case "$file" in /*) MAIN=$file ;; *) MAIN="$root/$file" ;; esac
        fi
        [ -n "$SERVER_ROOT" ] || SERVER_ROOT=$(dirname "$MAIN")
        flatten "$MAIN" >"$WORK/C"
    fi
    # The last server-wide value of each directive wins; <IfModule> blocks count only when their
    # module is loaded, and virtual hosts and directories are skipped.
    awk -v loaded="$(awk '{print $1}' "$WORK/M" | tr '\n' ' ')" '
        function norm(m) { m = tolower(m); sub(/\.c$/, "", m); sub(/^mod_/, "", m); sub(/_module$/, "", m)
                           sub(/^mpm_/, "", m); return m }
        BEGIN { n = split(loaded, list, " "); for (i = 1; i <= n; i++) have[norm(list[i])] = 1 }
        { sub(/^[ \t]+/, ""); sub(/[ \t\r]+$/, "") }
        /^#/ || /^$/ { next }
        tolower($0) ~ /^<ifmodule/ {
            arg = $2; sub(/>$/, "", arg); gsub(/"/, "", arg); neg = sub(/^!/, "", arg)
            on = (norm(arg) in have); if (neg) on = !on
            depth++; skip[depth] = !on; next }
        tolower($0) ~ /^<\/ifmodule/ { if (depth) depth--; next }
        tolower($0) ~ /^<\/if/ { next }
        tolower($0) ~ /^<\// { if (inner) inner--; next }
        /^</ { if (tolower($0) !~ /^<if/) inner++; next }
        { for (i = 1; i <= depth; i++) if (skip[i]) next }
        inner > 0 { next }
        { key = tolower($1); value = $2; gsub(/"/, "", value) }
        key == "maxrequestworkers" || key == "maxclients" { print "MAX_WORKERS=" value }
        key == "serverlimit" { print "SERVER_LIMIT=" value }
        key == "threadsperchild" { print "THREADS=" value }
        key == "keepalive" { print "KEEP_ALIVE=" tolower(value) }
        key == "keepalivetimeout" { print "KEEP_ALIVE_TIMEOUT=" tolower(value) }
        key == "phpinidir" { print "CONF_PHP_INI_DIR=" value }
        (key == "php_value" || key == "php_admin_value") && tolower($2) == "memory_limit" { print "CONF_MEMORY_LIMIT=" $3 }
    ' "$WORK/C" | grep -E '^[A-Z_]+=[A-Za-z0-9./_-]*$' >"$WORK/directives"
    CONF_PHP_INI_DIR='' CONF_MEMORY_LIMIT=''
    # shellcheck disable=SC1091 # written just above, with safe characters only
    . "$WORK/directives"
    # Apache 2.4's defaults for what the configuration does not set.
    case "$MPM" in
        prefork) SERVER_LIMIT=${SERVER_LIMIT:-256}; MAX_WORKERS=${MAX_WORKERS:-256}; THREADS=1 ;;
        worker|event) SERVER_LIMIT=${SERVER_LIMIT:-16}; THREADS=${THREADS:-25}
                      MAX_WORKERS=${MAX_WORKERS:-$((SERVER_LIMIT * THREADS))} ;;
        *) [ -n "$MPM" ] && unknown mpm "unsupported MPM '$MPM'"; MPM= ;;
    esac
    case "${KEEP_ALIVE:-on}" in on) KEEP_ALIVE=true ;; *) KEEP_ALIVE=false ;; esac
    case "${KEEP_ALIVE_TIMEOUT:-5}" in
        *ms) KEEP_ALIVE_TIMEOUT=$(echo "${KEEP_ALIVE_TIMEOUT%ms}" | awk '{print $1 / 1000}') ;;
        *) KEEP_ALIVE_TIMEOUT=${KEEP_ALIVE_TIMEOUT:-5} ;;
    esac
else
    for fact in web_server mpm max_request_workers server_limit threads_per_child keep_alive keep_alive_timeout_s; do
        unknown "$fact" "$NO_APACHE"
    done
fi
[ -n "$APACHE_OK" ] && [ -z "$PHP_HANDLER" ] && unknown php_handler "Apache loads neither mod_php nor proxy_fcgi"
[ -z "$APACHE_OK" ] && unknown php_handler "$NO_APACHE"

# -- worker processes and their resident memory -------------------------------------------------------

ps -e -o pid= -o ppid= -o rss= -o comm= >"$WORK/ps" 2>/dev/null || : >"$WORK/ps"
WORKER_PROCESS='' WORKER_COUNT='' RSS_AVG='' RSS_P95=''
if [ "$PHP_HANDLER" = php-fpm ]; then
    # PHP-FPM children: php-fpm processes whose parent is a php-fpm master.
    awk '$4 ~ /^php-fpm/ {fpm[$1] = 1; line[$1] = $0} END {for (p in line) {split(line[p], f, " ");
         if (f[2] in fpm) print f[3], f[4]}}' "$WORK/ps" >"$WORK/workers"
    why="no PHP-FPM worker process is running"
else
    MASTER=
    [ -n "$PID_FILE" ] && [ -r "$PID_FILE" ] && MASTER=$(tr -dc '0-9' <"$PID_FILE")
    if [ -n "$MASTER" ] && awk -v m="$MASTER" '$1 == m {found = 1} END {exit !found}' "$WORK/ps"; then
        awk -v m="$MASTER" '$2 == m {print $3, $4}' "$WORK/ps" >"$WORK/workers"
    else  # no readable pid file: every Apache child on this host
        awk '$4 ~ /^(apache2|httpd)$/ && $2 != 1 {print $3, $4}' "$WORK/ps" >"$WORK/workers"
    fi
    why="no Apache worker process is running (is Apache started?)"
fi
if [ -s "$WORK/workers" ]; then
    WORKER_PROCESS=$(awk '{print $2; exit}' "$WORK/workers")
    eval "$(awk '{print $1}' "$WORK/workers" | sort -n | awk '{rss[NR] = $1; sum += $1}
        END {i = int(NR * 0.95 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
             printf "WORKER_COUNT=%d RSS_AVG=%.1f RSS_P95=%.1f\n", NR, sum / NR / 1024, rss[i] / 1024}')"
else
    for fact in worker_process worker_count worker_rss_avg_mb worker_rss_p95_mb; do unknown "$fact" "$why"; done
fi

# -- PHP-FPM pools --------------------------------------------------------------------------------------

FPM_MAX_CHILDREN='' FPM_MEMORY_LIMIT=''
POOLS=
if [ -n "$FPM_POOL_DIR" ]; then POOLS="$FPM_POOL_DIR/*.conf"; else
    POOLS="/etc/php/*/fpm/pool.d/*.conf /etc/php-fpm.d/*.conf /usr/local/etc/php-fpm.d/*.conf /etc/php*/fpm/pool.d/*.conf"
fi
# shellcheck disable=SC2086 # the patterns are globs
POOL_FILES=$(ls $POOLS 2>/dev/null)
if [ -n "$POOL_FILES" ]; then
    # shellcheck disable=SC2086
    FPM_MAX_CHILDREN=$(awk -F= '/^[ \t]*pm\.max_children[ \t]*=/ {gsub(/[ \t]/, "", $2); sum += $2; n++}
                                END {if (n) print sum}' $POOL_FILES)
    # shellcheck disable=SC2086
    FPM_MEMORY_LIMIT=$(sed -n 's/^[ \t]*php_\(admin_\)\{0,1\}value\[memory_limit\][ \t]*=[ \t]*\([^ \t]*\).*/\2/p' $POOL_FILES | tail -n 1)
fi
if [ -z "$FPM_MAX_CHILDREN" ]; then
    if [ "$PHP_HANDLER" = php-fpm ]; then
        unknown php_fpm_max_children "no readable PHP-FPM pool file sets pm.max_children (give --fpm-pool-dir)"
    else
        unknown php_fpm_max_children "PHP does not run under PHP-FPM here"
    fi
fi

# -- PHP: memory_limit and the opcode cache, as the web server's PHP sees them ----------------------------

if [ -z "$PHP_INI_DIR" ]; then
    PHP_INI_DIR=${CONF_PHP_INI_DIR:-}
fi
SAPI=apache2
[ "$PHP_HANDLER" = php-fpm ] && SAPI=fpm
if [ -z "$PHP_INI_DIR" ]; then
    for dir in /etc/php/*/"$SAPI" /etc/php5/"$SAPI" /etc /usr/local/etc /usr/local/lib; do
        [ -r "$dir/php.ini" ] && PHP_INI_DIR=$dir
    done
fi
MEMORY_LIMIT='' OPCACHE='' NO_PHP_INI=''
USE_PHP=
[ "$PHP" != none ] && found "$PHP" && USE_PHP=1
if [ -z "$PHP_INI_DIR" ]; then
    NO_PHP_INI="no php.ini of the web server's PHP found (give --php-ini-dir)"
elif [ ! -r "$PHP_INI_DIR/php.ini" ]; then
    NO_PHP_INI="no readable php.ini in $PHP_INI_DIR"
fi
# The web server's PHP also reads its SAPI's extra .ini folder (Debian: conf.d beside php.ini).
SCAN_DIR="$PHP_INI_DIR/conf.d"
if [ -z "$NO_PHP_INI" ] && [ ! -d "$SCAN_DIR" ]; then
    if [ -n "$USE_PHP" ]; then
        SCAN_DIR=$("$PHP" -r 'echo PHP_CONFIG_FILE_SCAN_DIR;' 2>/dev/null | sed "s#/cli/#/$SAPI/#")
    else
        for dir in /etc/php/*/"$SAPI"/conf.d /etc/php.d /usr/local/etc/php/conf.d; do
            [ -d "$dir" ] && SCAN_DIR=$dir
        done
    fi
fi
if [ -z "$NO_PHP_INI" ] && [ -n "$USE_PHP" ]; then
    PHP_FACTS=$(PHP_INI_SCAN_DIR=$SCAN_DIR "$PHP" -c "$PHP_INI_DIR" -d display_errors=stderr -r '
        echo "\n", ini_get("memory_limit"), " ",
             (extension_loaded("Zend OPcache") && filter_var(ini_get("opcache.enable"), FILTER_VALIDATE_BOOLEAN))
                 ? "true" : "false";' 2>/dev/null | tail -n 1)
    MEMORY_LIMIT=${PHP_FACTS% *}
    OPCACHE=${PHP_FACTS#* }
    case "$OPCACHE" in true|false) ;; *) MEMORY_LIMIT='' OPCACHE='' ;; esac
fi
if [ -z "$NO_PHP_INI" ] && [ -z "$OPCACHE" ]; then  # no PHP command line: read the .ini files
    INI_FILES="$PHP_INI_DIR/php.ini $(ls "$SCAN_DIR"/*.ini 2>/dev/null)"
    # shellcheck disable=SC2086
    MEMORY_LIMIT=$(sed -n 's/^[ \t]*memory_limit[ \t]*=[ \t]*"\{0,1\}\([^" \t;]*\).*/\1/p' $INI_FILES 2>/dev/null | tail -n 1)
    # shellcheck disable=SC2086
    OPCACHE=$(awk -F= '/^[ \t]*zend_extension[ \t]*=.*opcache/ {loaded = 1}
                      /^[ \t]*opcache\.enable[ \t]*=/ {v = tolower($2); gsub(/[ \t"]/, "", v); enabled = v}
                      END {print (loaded && enabled !~ /^(0|off|false|no)$/) ? "true" : "false"}' $INI_FILES 2>/dev/null)
fi
MEMORY_LIMIT=${CONF_MEMORY_LIMIT:-${FPM_MEMORY_LIMIT:-$MEMORY_LIMIT}}  # the web server's own setting wins
MEMORY_LIMIT_MB=
case "$MEMORY_LIMIT" in
    -1) MEMORY_LIMIT_MB=-1 ;;
    *[0-9][gG]) MEMORY_LIMIT_MB=$(( ${MEMORY_LIMIT%?} * 1024 )) ;;
    *[0-9][mM]) MEMORY_LIMIT_MB=${MEMORY_LIMIT%?} ;;
    *[0-9][kK]) MEMORY_LIMIT_MB=$(( (${MEMORY_LIMIT%?} + 1023) / 1024 )) ;;
    *[0-9]) MEMORY_LIMIT_MB=$(( (MEMORY_LIMIT + 1048575) / 1048576 )) ;;
esac
if [ -n "$NO_PHP_INI" ]; then
    [ -z "$MEMORY_LIMIT_MB" ] && unknown php_memory_limit_mb "$NO_PHP_INI"
    unknown opcache "$NO_PHP_INI"
else
    [ -z "$MEMORY_LIMIT_MB" ] && unknown php_memory_limit_mb "memory_limit not readable from $PHP_INI_DIR"
    [ -z "$OPCACHE" ] && unknown opcache "the opcode cache setting is not readable from $PHP_INI_DIR"
fi

# -- the facts, as JSON -----------------------------------------------------------------------------------

# A value the configuration spells in a way this script does not understand is reported, not guessed.
for pair in max_request_workers:MAX_WORKERS server_limit:SERVER_LIMIT threads_per_child:THREADS \
            keep_alive_timeout_s:KEEP_ALIVE_TIMEOUT php_fpm_max_children:FPM_MAX_CHILDREN \
            php_memory_limit_mb:MEMORY_LIMIT_MB; do
    fact=${pair%%:*} variable=${pair#*:} value=""
    eval "value=\${$variable}"
    case "$value" in
        ''|-1) ;;
        *[!0-9.]*|.*|*.*.*) unknown "$fact" "not a number: '$value'"; eval "$variable=''" ;;
    esac
done

cat >"$OUT.tmp" <<EOF
{
  "schema": "riva-readiness-server-facts/1",
  "collected_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "hostname": $(json_str "$(hostname 2>/dev/null || uname -n)"),
  "ram_mb": $(value_or_null "$RAM_MB"),
  "swap_mb": $(value_or_null "$SWAP_MB"),
  "swap_used_mb": $(value_or_null "$SWAP_USED_MB"),
  "web_server": $(text_or_null "$WEB_SERVER"),
  "mpm": $(text_or_null "$MPM"),
  "max_request_workers": $(value_or_null "$MAX_WORKERS"),
  "server_limit": $(value_or_null "$SERVER_LIMIT"),
  "threads_per_child": $(value_or_null "$THREADS"),
  "keep_alive": $(value_or_null "$KEEP_ALIVE"),
  "keep_alive_timeout_s": $(value_or_null "$KEEP_ALIVE_TIMEOUT"),
  "php_handler": $(text_or_null "$PHP_HANDLER"),
  "php_fpm_max_children": $(value_or_null "$FPM_MAX_CHILDREN"),
  "worker_process": $(text_or_null "$WORKER_PROCESS"),
  "worker_count": $(value_or_null "$WORKER_COUNT"),
  "worker_rss_avg_mb": $(value_or_null "$RSS_AVG"),
  "worker_rss_p95_mb": $(value_or_null "$RSS_P95"),
  "php_memory_limit_mb": $(value_or_null "$MEMORY_LIMIT_MB"),
  "opcache": $(value_or_null "$OPCACHE"),
  "unavailable": {$UNAVAILABLE
  }
}
EOF
mv "$OUT.tmp" "$OUT" || exit 1
echo "collect-server-facts: wrote $OUT — copy it to the Riva host and set READINESS_SERVER_FACTS to its path" >&2
