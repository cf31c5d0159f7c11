/* GSS-API helpers shared by the peer's roles: see gss.h. */
#include "util/gss.h"

#include "util/builder.h"

#include <stdlib.h>
#include <string.h>

/* gss_display_status chains are short (a major routine error plus supplementary bits, or one
 * mechanism message); this bounds the loop should a library never report the end. */
enum { STATUS_MESSAGES_MAX = 16 };

static const struct {
    enum nametype type;
    const char *name;
} nametypes[] = {
    {NAMETYPE_HOSTBASED, "hostbased"},
    {NAMETYPE_USER, "user"},
    {NAMETYPE_KRB5, "krb5"},
};

bool nametype_parse(const char *text, enum nametype *type)
{
    for (size_t i = 0; text != NULL && i < sizeof(nametypes) / sizeof(nametypes[0]); i++) {
        if (strcmp(text, nametypes[i].name) == 0) {
            *type = nametypes[i].type;
            return true;
        }
    }
    return false;
}

const char *nametype_name(enum nametype type)
{
    for (size_t i = 0; i < sizeof(nametypes) / sizeof(nametypes[0]); i++)
        if (nametypes[i].type == type)
            return nametypes[i].name;
    return "unknown";
}

OM_uint32 gssutil_import_name(const char *text, enum nametype type, gss_name_t *name,
                              OM_uint32 *minor)
{
    gss_buffer_desc buffer;
    gss_OID oid;
    OM_uint32 major;

    *name = GSS_C_NO_NAME;
    *minor = 0;
    switch (type) {
    case NAMETYPE_HOSTBASED:
        oid = GSS_C_NT_HOSTBASED_SERVICE;
        break;
    case NAMETYPE_USER:
        oid = GSS_C_NT_USER_NAME;
        break;
    case NAMETYPE_KRB5:
        oid = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
        break;
    default:
        return GSS_S_BAD_NAMETYPE;
    }
    if (text == NULL)
        return GSS_S_CALL_INACCESSIBLE_READ;
    buffer.value = (void *)text;
    buffer.length = strlen(text);
    major = gss_import_name(minor, &buffer, oid, name);
    if (GSS_ERROR(major))
        *name = GSS_C_NO_NAME;
    return major;
}

OM_uint32 gssutil_acquire_cred(gss_name_t name, gss_cred_usage_t usage, gss_cred_id_t *cred,
                               OM_uint32 *minor)
{
    gss_OID_set_desc mechs = {1, gss_mech_krb5};
    OM_uint32 major;

    *cred = GSS_C_NO_CREDENTIAL;
    major = gss_acquire_cred(minor, name, GSS_C_INDEFINITE, &mechs, usage, cred, NULL, NULL);
    if (GSS_ERROR(major))
        *cred = GSS_C_NO_CREDENTIAL;
    return major;
}

char *gssutil_display_name(gss_name_t name)
{
    gss_buffer_desc buffer = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    char *text;

    major = gss_display_name(&minor, name, &buffer, NULL);
    if (GSS_ERROR(major))
        return NULL;
    text = malloc(buffer.length + 1);
    if (text != NULL) {
        if (buffer.length > 0)
            memcpy(text, buffer.value, buffer.length);
        text[buffer.length] = '\0';
    }
    gss_release_buffer(&minor, &buffer);
    return text;
}

/* Append every message of one status chain, each preceded by "; " except the very first. */
static void add_status_chain(struct builder *b, OM_uint32 code, int code_type, gss_OID mech)
{
    OM_uint32 context = 0;

    for (int i = 0; i < STATUS_MESSAGES_MAX; i++) {
        gss_buffer_desc message = GSS_C_EMPTY_BUFFER;
        OM_uint32 major, minor;

        major = gss_display_status(&minor, code, code_type, mech, &context, &message);
        if (GSS_ERROR(major)) {
            builder_add_fmt(b, "%s%s status %lu (not displayable)", b->len > 0 ? "; " : "",
                            code_type == GSS_C_GSS_CODE ? "GSS major" : "mechanism minor",
                            (unsigned long)code);
            return;
        }
        if (b->len > 0)
            builder_add_str(b, "; ");
        builder_add(b, message.value, message.length);
        gss_release_buffer(&minor, &message);
        if (context == 0)
            return;
    }
}

/* True when the minor text M (LEN bytes) says nothing: empty, or "Success" -- MIT maps a
 * mechanism minor of 0 to a non-zero code whose text is strerror(0) (gss_init_sec_context on a
 * garbage token: "Invalid token was supplied; Success"). */
static bool minor_says_nothing(const unsigned char *m, size_t len)
{
    return len == 0 || (len == 7 && memcmp(m, "Success", 7) == 0);
}

char *gssutil_status_text(OM_uint32 major, OM_uint32 minor)
{
    struct builder b, m;
    unsigned char *text;
    size_t len;

    builder_init(&b);
    add_status_chain(&b, major, GSS_C_GSS_CODE, GSS_C_NO_OID);
    /* Minor 0 carries no information ("Success" or "Unknown error" depending on the library). */
    if (minor != 0) {
        builder_init(&m);
        add_status_chain(&m, minor, GSS_C_MECH_CODE, gss_mech_krb5);
        if (builder_ok(&m) && !minor_says_nothing(m.data, m.len)) {
            if (b.len > 0)
                builder_add_str(&b, "; ");
            builder_add(&b, m.data, m.len);
        }
        builder_free(&m);
    }
    builder_add_u8(&b, '\0');
    text = builder_detach(&b, &len);
    return (char *)text;
}
