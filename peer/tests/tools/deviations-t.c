/* Tests of the deviation table (tools/deviations.c): its entries and `--deviate` parsing. The
 * deviations' effect on the wire is the mutation run's (tests/zmtp/mutation-t.py). */
#include "tools/deviations.h"

#include "tests/tap.h"

#include <stdio.h>
#include <string.h>

static bool member_set(const struct zmtp_deviations *d, const struct deviation_spec *spec)
{
    return *(const bool *)((const char *)d + spec->member);
}

static void test_table(void)
{
    size_t count = 0, xmpp_count = 0;
    bool names_ok = true, members_ok = true, texts_ok = true, roles_ok = true;

    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++) {
        bool xmpp = d->protocol != NULL && strcmp(d->protocol, "xmpp") == 0;

        if (xmpp)
            xmpp_count++;
        else
            count++;
        for (const struct deviation_spec *e = d + 1; e->name != NULL; e++) {
            if (strcmp(d->name, e->name) == 0 ||
                (d->member == e->member && strcmp(d->protocol, e->protocol) == 0)) {
                diag("%s and %s share a name or a switch", d->name, e->name);
                names_ok = false;
            }
        }
        if (d->member + sizeof(bool) >
            (xmpp ? sizeof(struct xmpp_deviations) : sizeof(struct zmtp_deviations)))
            members_ok = false;
        if (d->summary == NULL || d->summary[0] == '\0' || d->imitates == NULL ||
            strchr(d->summary, '\n') != NULL ||
            (!xmpp && (d->protocol == NULL || strcmp(d->protocol, "zmtp") != 0)))
            texts_ok = false;
        if (d->roles == 0 || (d->roles & ~(unsigned)DEVIATION_ROLE_BOTH) != 0)
            roles_ok = false;
        if (deviation_find(d->name) != d)
            names_ok = false;
    }
    ok(count >= 25, "at least 25 ZMTP deviations (%zu)", count);
    ok(names_ok, "names and switches are unique, and deviation_find finds each");
    diag("%zu XMPP deviations", xmpp_count);
    ok(members_ok, "every switch lies inside its struct zmtp_deviations or xmpp_deviations");
    ok(texts_ok, "every entry has a one-line meaning, an imitates field and protocol zmtp/xmpp");
    ok(roles_ok, "every entry has client, server or both as roles");
    ok(deviation_find("no-such-deviation") == NULL, "an unknown name is not found");
    is_string(deviation_roles_name(DEVIATION_ROLE_BOTH), "both", "roles name: both");
    is_string(deviation_roles_name(DEVIATION_ROLE_SERVER), "server", "roles name: server");
}

/* The xmpp-client rows: each parses in the xmpp-client role and sets its own switch only; the
 * xmpp-server role and the ZMTP roles refuse it (usage, 64). */
static void test_xmpp_client(void)
{
    size_t count = 0;
    bool parsed = true, alone = true, server_refused = true, zmtp_refused = true;

    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++) {
        struct xmpp_deviations x;
        struct zmtp_deviations z;
        char name[64];
        char *argv[] = {"xmpp-client", "--jid", "alice@example.com", "--deviate", name, NULL};
        int argc;

        if (strcmp(d->protocol, "xmpp") != 0 || d->roles != DEVIATION_ROLE_CLIENT)
            continue;
        count++;
        snprintf(name, sizeof(name), "%s", d->name);
        argc = 5;
        if (deviations_take_options("xmpp", &x, sizeof(x), &argc, argv, false) != -1 || argc != 3 ||
            !*(const bool *)((const char *)&x + d->member)) {
            diag("%s: not taken in the xmpp-client role", d->name);
            parsed = false;
            continue;
        }
        *(bool *)((char *)&x + d->member) = false;
        if (deviations_any("xmpp", &x)) {
            diag("%s: sets another switch too", d->name);
            alone = false;
        }
        argv[3] = "--deviate";
        argv[4] = name;
        argc = 5;
        if (deviations_take_options("xmpp", &x, sizeof(x), &argc, argv, true) != 64)
            server_refused = false;
        argc = 5;
        if (deviations_take_options("zmtp", &z, sizeof(z), &argc, argv, false) != 64 ||
            deviations_take_options("zmtp", &z, sizeof(z), &argc, argv, true) != 64)
            zmtp_refused = false;
    }
    ok(count >= 9, "at least 9 xmpp-client deviations (%zu)", count);
    ok(parsed, "each xmpp-client deviation parses in the xmpp-client role and sets its switch");
    ok(alone, "each sets its own switch and no other");
    ok(server_refused, "each is refused in the xmpp-server role (usage, 64)");
    ok(zmtp_refused, "each is refused in the zmtp-client and zmtp-server roles (usage, 64)");
}

/* Parse ARGV (NULL-terminated) for the role; returns the status, *ARGC updated. */
static int parse(struct zmtp_deviations *d, char **argv, int *argc, bool server)
{
    *argc = 0;
    while (argv[*argc] != NULL)
        (*argc)++;
    return deviations_take_options("zmtp", d, sizeof(*d), argc, argv, server);
}

static void test_parsing(void)
{
    struct zmtp_deviations d;
    const struct deviation_spec *reorder = deviation_find("accept-reorder");
    const struct deviation_spec *allow = deviation_find("ignore-allow");
    const struct deviation_spec *pad = deviation_find("mechanism-space-padded");
    char *argv[] = {"zmtp-server",
                    "--bind",
                    "tcp://h:1",
                    "--deviate",
                    "accept-reorder",
                    "--count",
                    "2",
                    "--deviate=ignore-allow",
                    "--deviate",
                    "mechanism-space-padded",
                    NULL};
    int argc;

    if (reorder == NULL || allow == NULL || pad == NULL)
        bail("the table lacks accept-reorder, ignore-allow or mechanism-space-padded");
    is_int(parse(&d, argv, &argc, true), -1, "three deviations parsed");
    ok(member_set(&d, reorder) && member_set(&d, allow) && member_set(&d, pad),
       "their switches are set");
    ok(deviations_any("zmtp", &d), "deviations_any: true");
    is_int(argc, 5, "the --deviate options are taken out of argv");
    is_string(argv[3], "--count", "the other options stay in order");
    ok(argv[5] == NULL, "argv stays NULL-terminated");
    {
        char *none[] = {"zmtp-client", "--connect", "tcp://h:1", NULL};

        memset(&d, 0xff, sizeof(d)); /* cleared by the parser */
        is_int(parse(&d, none, &argc, false), -1, "no --deviate: fine");
        ok(!deviations_any("zmtp", &d), "no --deviate: no switch set");
        is_int(argc, 3, "no --deviate: argv unchanged");
    }
    {
        char *bad[] = {"zmtp-client", "--deviate", "no-such-deviation", NULL};

        is_int(parse(&d, bad, &argc, false), 64, "unknown deviation: usage error 64");
    }
    {
        char *missing[] = {"zmtp-client", "--deviate", NULL};

        is_int(parse(&d, missing, &argc, false), 64, "--deviate without a name: usage error");
    }
    {
        char *wrong[] = {"zmtp-client", "--deviate", "ignore-allow", NULL};

        is_int(parse(&d, wrong, &argc, false), 64, "a server deviation in the client: usage");
    }
    {
        char *after[] = {"zmtp-client", "--", "--deviate", "accept-reorder", NULL};

        is_int(parse(&d, after, &argc, false), -1, "after --: left alone");
        ok(!deviations_any("zmtp", &d) && argc == 4, "after --: nothing taken");
    }
}

/* The xmpp-server rows: each parses in the xmpp-server role and sets its own switch only; it is
 * refused in the xmpp-client role and in both zmtp roles (usage error 64). */
static void test_xmpp_server_rows(void)
{
    size_t rows = 0;
    bool server_ok = true, only_own = true, client_refused = true, zmtp_refused = true;

    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++) {
        struct xmpp_deviations x, none;
        struct zmtp_deviations z;
        char name[64];
        char *argv[] = {"xmpp-server", "--bind", "127.0.0.1:0", "--deviate", name, NULL};
        int argc = 5;

        if (strcmp(d->protocol, "xmpp") != 0 || d->roles != DEVIATION_ROLE_SERVER)
            continue;
        rows++;
        snprintf(name, sizeof(name), "%s", d->name);
        if (deviations_take_options("xmpp", &x, sizeof(x), &argc, argv, true) != -1 ||
            argc != 3 || argv[3] != NULL) {
            diag("%s: not taken in the xmpp-server role", d->name);
            server_ok = false;
            continue;
        }
        memset(&none, 0, sizeof(none));
        *(bool *)((char *)&none + d->member) = true;
        if (memcmp(&x, &none, sizeof(x)) != 0) {
            diag("%s: sets another switch too", d->name);
            only_own = false;
        }
        argv[3] = "--deviate";
        argv[4] = name;
        argc = 5;
        if (deviations_take_options("xmpp", &x, sizeof(x), &argc, argv, false) != 64)
            client_refused = false;
        argc = 5;
        if (deviations_take_options("zmtp", &z, sizeof(z), &argc, argv, true) != 64)
            zmtp_refused = false;
        argc = 5;
        if (deviations_take_options("zmtp", &z, sizeof(z), &argc, argv, false) != 64)
            zmtp_refused = false;
    }
    ok(rows >= 9, "at least 9 xmpp-server deviations (%zu)", rows);
    ok(server_ok, "each is taken in the xmpp-server role and out of argv");
    ok(only_own, "each sets its own switch and no other");
    ok(client_refused, "each is refused in the xmpp-client role");
    ok(zmtp_refused, "each is refused in the zmtp-server and zmtp-client roles");
    {
        struct zmtp_deviations z;
        char *argv[] = {"zmtp-server", "--deviate", "hostname-before-tls", NULL};
        int argc = 3;

        is_int(deviations_take_options("zmtp", &z, sizeof(z), &argc, argv, true), 64,
               "hostname-before-tls in zmtp-server: usage error");
    }
    {
        struct xmpp_deviations x;
        char *argv[] = {"xmpp-server", "--deviate", "ignore-allow", NULL};
        int argc = 3;

        is_int(deviations_take_options("xmpp", &x, sizeof(x), &argc, argv, true), 64,
               "a zmtp deviation (ignore-allow) in xmpp-server: usage error");
    }
}

int main(void)
{
    plan_lazy();
    /* The usage errors print their reason and the list on stderr; keep the TAP output clean. */
    if (freopen("/dev/null", "w", stderr) == NULL)
        bail("cannot silence stderr");
    test_xmpp_client();
    test_table();
    test_parsing();
    test_xmpp_server_rows();
    done_testing();
}
