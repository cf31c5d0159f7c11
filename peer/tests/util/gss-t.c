/* Tests of util/gss: name types, import and display of each kind, status text. No KDC needed. */
#include "tests/tap.h"
#include "util/gss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A private krb5.conf and a keytab path that does not exist, so the host's configuration and
 * credentials cannot change the results. */
static char dir[] = "/tmp/gss-t.XXXXXX";
static char conf[sizeof(dir) + 32];
static char missing_keytab[sizeof(dir) + 32];

static void setup(void)
{
    FILE *f;

    if (mkdtemp(dir) == NULL)
        bail("mkdtemp %s failed", dir);
    snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
    snprintf(missing_keytab, sizeof(missing_keytab), "%s/missing.keytab", dir);
    f = fopen(conf, "w");
    if (f == NULL)
        bail("cannot write %s", conf);
    fputs("[libdefaults]\n"
          "    default_realm = GSSCONFORM.TEST\n"
          "    dns_lookup_kdc = false\n"
          "    dns_lookup_realm = false\n"
          "    dns_canonicalize_hostname = false\n"
          "    rdns = false\n",
          f);
    fclose(f);
    setenv("KRB5_CONFIG", conf, 1);
    unsetenv("KRB5_TRACE");
    setenv("KRB5_KTNAME", missing_keytab, 1);
    setenv("KRB5_CLIENT_KTNAME", missing_keytab, 1);
    char ccache[sizeof(dir) + 40];
    snprintf(ccache, sizeof(ccache), "FILE:%s/missing.ccache", dir);
    setenv("KRB5CCNAME", ccache, 1);
}

static void teardown(void)
{
    unlink(conf);
    rmdir(dir);
}

static void test_nametypes(void)
{
    static const struct {
        const char *text;
        enum nametype type;
    } words[] = {
        {"hostbased", NAMETYPE_HOSTBASED},
        {"user", NAMETYPE_USER},
        {"krb5", NAMETYPE_KRB5},
    };
    static const char *bad[] = {"", "Hostbased", "krb", "krb5 ", "principal", NULL};
    enum nametype type;

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        type = (enum nametype) - 1;
        ok(nametype_parse(words[i].text, &type) && type == words[i].type, "parse \"%s\"",
           words[i].text);
        is_string(nametype_name(words[i].type), words[i].text, "name of \"%s\" round trips",
                  words[i].text);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        type = NAMETYPE_USER;
        ok(!nametype_parse(bad[i], &type) && type == NAMETYPE_USER,
           "\"%s\" is not a name type and *type is untouched", bad[i] ? bad[i] : "(null)");
    }
    is_string(nametype_name((enum nametype)42), "unknown", "name of an invalid type");
}

/* Import TEXT as TYPE, check the name type GSS reports and that it displays as DISPLAY. */
static void check_import(const char *text, enum nametype type, gss_OID want_oid,
                         const char *display)
{
    gss_name_t name = GSS_C_NO_NAME;
    gss_buffer_desc buffer = GSS_C_EMPTY_BUFFER;
    gss_OID oid = GSS_C_NO_OID;
    OM_uint32 major, minor;
    char *shown;

    major = gssutil_import_name(text, type, &name, &minor);
    if (!ok(major == GSS_S_COMPLETE && name != GSS_C_NO_NAME, "import %s name \"%s\"",
            nametype_name(type), text)) {
        char *why = gssutil_status_text(major, minor);
        diag("%s", why);
        free(why);
        skip(2, "import failed");
        return;
    }
    major = gss_display_name(&minor, name, &buffer, &oid);
    ok(major == GSS_S_COMPLETE && oid != GSS_C_NO_OID && oid->length == want_oid->length &&
           memcmp(oid->elements, want_oid->elements, oid->length) == 0,
       "\"%s\" keeps the %s name type", text, nametype_name(type));
    gss_release_buffer(&minor, &buffer);
    shown = gssutil_display_name(name);
    is_string(shown, display, "\"%s\" displays as \"%s\"", text, display);
    free(shown);
    gss_release_name(&minor, &name);
}

static void test_import(void)
{
    gss_name_t name = (gss_name_t)&name;
    OM_uint32 major, minor = 99;

    check_import("zmq@localhost", NAMETYPE_HOSTBASED, GSS_C_NT_HOSTBASED_SERVICE, "zmq@localhost");
    check_import("zmq", NAMETYPE_HOSTBASED, GSS_C_NT_HOSTBASED_SERVICE, "zmq");
    check_import("alice", NAMETYPE_USER, GSS_C_NT_USER_NAME, "alice");
    check_import("alice@GSSCONFORM.TEST", NAMETYPE_KRB5, GSS_KRB5_NT_PRINCIPAL_NAME,
                 "alice@GSSCONFORM.TEST");
    check_import("xmpp/auth42.us.example.com/example.com@GSSCONFORM.TEST", NAMETYPE_KRB5,
                 GSS_KRB5_NT_PRINCIPAL_NAME,
                 "xmpp/auth42.us.example.com/example.com@GSSCONFORM.TEST");

    major = gssutil_import_name("alice", (enum nametype)42, &name, &minor);
    ok(major == GSS_S_BAD_NAMETYPE && name == GSS_C_NO_NAME && minor == 0,
       "an invalid name type is GSS_S_BAD_NAMETYPE and no name");
    name = (gss_name_t)&name;
    major = gssutil_import_name(NULL, NAMETYPE_USER, &name, &minor);
    ok(GSS_ERROR(major) && name == GSS_C_NO_NAME, "a NULL text fails with no name");
}

/* Looks for NEEDLE in the status text of (MAJOR, MINOR) and that it has both halves. */
static void check_status(OM_uint32 major, OM_uint32 minor, const char *needle, const char *what)
{
    char *text = gssutil_status_text(major, minor);

    ok(text != NULL && strstr(text, needle) != NULL, "%s: status text mentions \"%s\"", what,
       needle);
    ok(text != NULL && strstr(text, "; ") != NULL, "%s: major and minor joined by \"; \"", what);
    diag("%s: %s", what, text != NULL ? text : "(null)");
    free(text);
}

static void test_status(void)
{
    gss_cred_id_t cred = (gss_cred_id_t)&cred;
    gss_name_t name = GSS_C_NO_NAME;
    OM_uint32 major, minor = 0;
    char *text;

    text = gssutil_status_text(GSS_S_COMPLETE, 0);
    ok(text != NULL && strchr(text, ';') == NULL && strlen(text) > 0,
       "success has one message and no minor part");
    diag("complete: %s", text);
    free(text);

    text = gssutil_status_text(GSS_S_BAD_NAMETYPE, 0);
    ok(text != NULL && strstr(text, "unsupported type") != NULL, "a major code alone is described");
    diag("bad name type: %s", text);
    free(text);

    major = gssutil_acquire_cred(GSS_C_NO_NAME, GSS_C_ACCEPT, &cred, &minor);
    ok(GSS_ERROR(major) && cred == GSS_C_NO_CREDENTIAL,
       "acceptor creds from a missing keytab fail with no credential");
    check_status(major, minor, missing_keytab, "missing keytab");

    gssutil_import_name("alice@GSSCONFORM.TEST", NAMETYPE_KRB5, &name, &minor);
    cred = (gss_cred_id_t)&cred;
    major = gssutil_acquire_cred(name, GSS_C_INITIATE, &cred, &minor);
    ok(GSS_ERROR(major) && cred == GSS_C_NO_CREDENTIAL,
       "initiator creds without ccache or client keytab fail");
    check_status(major, minor, "alice@GSSCONFORM.TEST", "no initiator credentials");
    gss_release_name(&minor, &name);

    /* MIT's mechglue keeps the text and parses it when the krb5 mechanism needs it, so the
     * malformed principal shows up when canonicalizing. */
    major = gssutil_import_name("a@B@C", NAMETYPE_KRB5, &name, &minor);
    ok(major == GSS_S_COMPLETE, "import of a@B@C is deferred to the mechanism");
    {
        gss_name_t mech_name = GSS_C_NO_NAME;

        major = gss_canonicalize_name(&minor, name, gss_mech_krb5, &mech_name);
        ok(GSS_ERROR(major) && mech_name == GSS_C_NO_NAME, "canonicalizing a@B@C fails");
        check_status(major, minor, "Malformed representation of principal", "malformed principal");
        gss_release_name(&minor, &name);
    }

    text = gssutil_status_text(GSS_S_FAILURE, 0x7fffffffu);
    ok(text != NULL &&
           strstr(text, "; mechanism minor status 2147483647 (not displayable)") != NULL,
       "an undisplayable minor code is shown by number");
    diag("unknown minor: %s", text);
    free(text);
}

int main(void)
{
    setup();
    plan_lazy();
    test_nametypes();
    test_import();
    test_status();
    teardown();
    done_testing();
}
