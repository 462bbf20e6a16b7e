/*
 * http_parse.h — HTTP/1.1 message heads (requests and responses), body
 * framing and the chunked decoder, strict per RFC 9112. Pure logic: no I/O,
 * no allocation.
 *
 * Zero copy: every http_str and http_header the parser fills points into the
 * caller's buffer; they stay valid as long as those bytes do (see
 * http_request_move() to relocate a head the caller copied elsewhere).
 *
 * Incremental: the caller keeps the bytes of the message from its first byte
 * on and calls the parse function again with the same bytes plus whatever
 * arrived (the buffer may have moved in between). The parser remembers how
 * far it has scanned, so each byte is looked at a bounded number of times no
 * matter how the input is split. A complete head is validated once.
 *
 * Strictness (each rejection has its own code, see http_err):
 *   - Lines end in CRLF. A bare CR anywhere is rejected (HTTP_E_BARE_CR);
 *     so is a bare LF (HTTP_E_BARE_LF): RFC 9112 §2.2 allows accepting it,
 *     but a proxy that reads lines differently from its upstream invites
 *     request smuggling, and every real client sends CRLF.
 *   - Request line: exactly "method SP target SP HTTP/1.x", single spaces;
 *     only HTTP/1.0 and HTTP/1.1. Targets in origin, absolute, authority
 *     (CONNECT only) and asterisk (OPTIONS only) form.
 *   - Header names are tokens, no whitespace before the colon, no obs-fold,
 *     no control characters in values; HTTP/1.1 requests need exactly one
 *     valid Host.
 *   - Content-Length: digits only; duplicates (as repeated fields or a comma
 *     list) must be identical and are collapsed. Content-Length together
 *     with Transfer-Encoding is rejected, in requests and responses.
 *   - Transfer-Encoding in requests: only "chunked" is understood; chunked
 *     must be the final coding and appear once; any in HTTP/1.0 is rejected.
 *   - Leading empty lines before a request line are skipped (RFC 9112 §2.2).
 *
 * Thread-safety: a parser object is used by one thread; the functions keep
 * no global state.
 */
#ifndef LIFTOFF_HTTP_PARSE_H
#define LIFTOFF_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* ---- limits ---- */

#define HTTP_LINE_MAX_DEFAULT 8192u            /* request / status line, bytes */
#define HTTP_HEAD_MAX_DEFAULT (16u << 10)      /* whole head (and trailers), bytes */
#define HTTP_HEADERS_MAX_DEFAULT 100u          /* header fields per head */
#define HTTP_BODY_MAX_DEFAULT (16ull << 20)    /* body bytes */
#define HTTP_CHUNK_LINE_MAX_DEFAULT 4096u      /* chunk-size line incl. extensions */
#define HTTP_BODY_UNLIMITED UINT64_MAX

typedef struct http_limits {
    uint32_t line_max;        /* 0: default */
    uint32_t head_max;        /* 0: default; also bounds the trailer section */
    uint32_t headers_max;     /* 0: default; also bounded by the caller's array */
    uint64_t body_max;        /* 0: default; HTTP_BODY_UNLIMITED for none */
    uint32_t chunk_line_max;  /* 0: default */
} http_limits;

/* Fills zero fields of *l with the defaults (l may already be partly set). */
void http_limits_fill(http_limits *l);

/* ---- errors ---- */

/* Parse errors, returned negated (-HTTP_E_...). */
typedef enum http_err {
    HTTP_E_OK = 0,
    HTTP_E_BARE_CR = 1,       /* CR not followed by LF */
    HTTP_E_BARE_LF,           /* LF not preceded by CR */
    HTTP_E_REQUEST_LINE,      /* malformed request line (spaces, missing parts) */
    HTTP_E_METHOD,            /* method is not a token */
    HTTP_E_TARGET,            /* bad request-target (characters or form) */
    HTTP_E_VERSION,           /* not HTTP/1.0 or HTTP/1.1 */
    HTTP_E_STATUS_LINE,       /* malformed status line or status code */
    HTTP_E_LINE_TOO_LONG,     /* request / status line over line_max */
    HTTP_E_HEAD_TOO_LARGE,    /* head over head_max */
    HTTP_E_TOO_MANY_HEADERS,  /* more than headers_max fields */
    HTTP_E_HEADER_NAME,       /* empty or non-token field name, or no colon */
    HTTP_E_HEADER_SPACE,      /* whitespace between field name and colon */
    HTTP_E_HEADER_VALUE,      /* control character in a field value */
    HTTP_E_OBS_FOLD,          /* line folding (a field line starting with SP/HTAB) */
    HTTP_E_HOST_MISSING,      /* HTTP/1.1 request without Host */
    HTTP_E_HOST_DUPLICATE,    /* more than one Host field */
    HTTP_E_HOST_INVALID,      /* Host value with characters a host cannot have */
    HTTP_E_CL_INVALID,        /* Content-Length not a plain decimal number / overflow */
    HTTP_E_CL_MISMATCH,       /* differing Content-Length values */
    HTTP_E_CL_AND_TE,         /* both Content-Length and Transfer-Encoding */
    HTTP_E_TE_NOT_CHUNKED,    /* request TE whose final coding is not chunked */
    HTTP_E_TE_UNSUPPORTED,    /* request TE with a coding other than chunked */
    HTTP_E_TE_HTTP10,         /* Transfer-Encoding in an HTTP/1.0 message */
    HTTP_E_BODY_TOO_LARGE,    /* body over body_max */
    HTTP_E_CHUNK_SIZE,        /* chunk size not hex, empty, or overflowing */
    HTTP_E_CHUNK_LINE_TOO_LONG,/* chunk-size line over chunk_line_max */
    HTTP_E_CHUNK_EXT,         /* invalid byte in a chunk extension */
    HTTP_E_CHUNK_CRLF,        /* chunk data not followed by CRLF */
    HTTP_E_TRAILER,           /* malformed trailer field */
    HTTP_E_TRAILER_TOO_LARGE, /* trailer section over head_max */
    HTTP_E_COUNT_
} http_err;

/* A short English description of a (positive or negated) http_err. */
const char *http_err_str(int err);
/* The status a server answers a request parse error with: 400, 413, 414,
 * 431, 501 or 505. */
int http_err_status(int err);

/* ---- messages ---- */

/* A slice of the input buffer (not NUL-terminated). */
typedef struct http_str {
    const char *p;
    size_t len;
} http_str;

typedef struct http_header {
    http_str name;
    http_str value;   /* without leading / trailing whitespace */
} http_header;

typedef enum {
    HTTP_M_OTHER = 0, HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_PUT, HTTP_M_DELETE,
    HTTP_M_CONNECT, HTTP_M_OPTIONS, HTTP_M_TRACE, HTTP_M_PATCH,
} http_method;

typedef enum http_target_form {
    HTTP_TARGET_ORIGIN = 0,   /* "/path?query" */
    HTTP_TARGET_ABSOLUTE,     /* "http://host/path" */
    HTTP_TARGET_AUTHORITY,    /* "host:port" (CONNECT) */
    HTTP_TARGET_ASTERISK,     /* "*" (OPTIONS) */
} http_target_form;

typedef enum http_body_kind {
    HTTP_BODY_NONE = 0,       /* no body */
    HTTP_BODY_LENGTH,         /* content_length bytes */
    HTTP_BODY_CHUNKED,        /* chunked coding */
    HTTP_BODY_CLOSE,          /* responses: until the connection closes */
} http_body_kind;

/* What the framing-relevant fields said; shared by requests and responses. */
typedef struct http_framing {
    http_body_kind body;
    uint64_t content_length;  /* HTTP_BODY_LENGTH */
    bool keep_alive;          /* the connection may carry another message */
    bool conn_close;          /* "Connection: close" was present */
    bool conn_upgrade;        /* "Connection: upgrade" was present */
    bool te_other;            /* responses: a coding besides chunked */
} http_framing;

typedef struct http_request {
    http_str method;
    http_method meth;
    http_str target;          /* as sent */
    http_target_form form;
    http_str path;            /* path and query ("/" for "http://h"), "*", or empty */
    http_str host;            /* the absolute-form authority, else the Host value */
    int minor;                /* HTTP/1.<minor>: 0 or 1 */
    http_header *headers;     /* caller's array; set with headers_cap before parsing */
    unsigned headers_cap;
    unsigned nheaders;
    http_framing f;
    bool expect_continue;     /* "Expect: 100-continue" (HTTP/1.1 only) */
    bool expect_other;        /* another expectation: answer 417 */
    bool upgrade;             /* Upgrade with "Connection: upgrade" (HTTP/1.1) */
    http_str upgrade_proto;   /* the Upgrade value */
    size_t head_len;          /* bytes of the head, leading empty lines included */
} http_request;

typedef struct http_response {
    int minor;
    int status;               /* 100..999 */
    http_str reason;
    http_header *headers;     /* caller's array, as for requests */
    unsigned headers_cap;
    unsigned nheaders;
    http_framing f;           /* body NONE for HEAD, 1xx, 204, 304 */
    size_t head_len;
} http_response;

/* ---- the head parser ---- */

typedef struct http_head_parser {
    http_limits lim;
    size_t start;      /* first byte of the message (after skipped empty lines) */
    size_t line;       /* start of the line being scanned */
    size_t scanned;    /* bytes already scanned */
    unsigned lines;    /* complete lines of the current message */
} http_head_parser;

/* Prepares p with limits lim (NULL: defaults; copied). */
void http_head_parser_init(http_head_parser *p, const http_limits *lim);
/* Forgets scan progress: the next call starts a new message. The parse
 * functions do this themselves after a complete head or an error. */
void http_head_parser_reset(http_head_parser *p);

/* Parses a request head from buf[0..len): the head length (> 0) once
 * complete, 0 when more bytes are needed, or -HTTP_E_... . req->headers and
 * req->headers_cap must be set; the rest of *req is filled on success. */
ssize_t http_parse_request(http_head_parser *p, const char *buf, size_t len, http_request *req);

/* Parses a response head as above. head_request: the request was HEAD (so
 * there is no body whatever the fields say). */
ssize_t http_parse_response(http_head_parser *p, const char *buf, size_t len, bool head_request,
                            http_response *res);

/* Re-points every slice of r that lies in old_base[0..len) at the same offset
 * in new_base (after the caller copied the head there). */
void http_request_move(http_request *r, const char *old_base, const char *new_base, size_t len);
void http_response_move(http_response *r, const char *old_base, const char *new_base, size_t len);

/* ---- header helpers ---- */

/* The first field named name (case-insensitive), or NULL. */
const http_header *http_header_find(const http_header *h, unsigned n, const char *name);
/* The next element of the comma-separated list v from *pos (start at 0),
 * trimmed, empty elements skipped: true with *item set, false at the end. */
bool http_list_next_item(http_str v, size_t *pos, http_str *item);
/* True if the comma-separated list value contains token (case-insensitive). */
bool http_list_has_token(http_str value, const char *token);
/* True if the request's path, without its query, is exactly path. */
bool http_path_is(const http_request *h, const char *path);
/* Equality ignoring the case of ASCII letters of the 8 bytes x with the 8
 * ASCII bytes y: they may differ only in bit 0x20 of bytes where y holds a
 * letter. (No carries: every byte of y | 0x20 is at most 0x7f.) */
static inline bool http_word_ieq(uint64_t x, uint64_t y)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t d = x ^ y;
    if (d & ~(0x20 * ones))
        return false;
    uint64_t z = y | (0x20 * ones);
    uint64_t letter = (z + 0x1f * ones) & ~(z + 0x05 * ones) & highs; /* 'a' <= z <= 'z' */
    return ((d << 2) & ~letter) == 0;
}

/* Case-insensitive comparison of s with a NUL-terminated ASCII string
 * (inline: with a literal the length test costs nothing, and it runs per
 * field of every message). Whole words while they last, the last one
 * overlapping. */
static inline bool http_str_ieq(http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    if (n >= 8) {
        uint64_t x, y;
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&x, s.p + i, 8);
            memcpy(&y, lit + i, 8);
            if (!http_word_ieq(x, y))
                return false;
        }
        memcpy(&x, s.p + n - 8, 8);
        memcpy(&y, lit + n - 8, 8);
        return http_word_ieq(x, y);
    }
    /* ASCII only (field names are): bytes equal, or letters a case apart. */
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s.p[i], b = (unsigned char)lit[i];
        if (a != b && ((a ^ b) != 0x20 || (unsigned char)((a | 0x20) - 'a') >= 26))
            return false;
    }
    return true;
}
/* The method's canonical name ("GET"), or NULL for HTTP_M_OTHER. */
const char *http_method_name(http_method m);
/* The method named by m[0..n) (exact case), or HTTP_M_OTHER. */
http_method http_method_id(const char *m, size_t n);
/* The standard reason phrase for a status code ("Not Found"), or "Unknown". */
const char *http_status_reason(int status);
/* True if a response with this status to this method never has a body. */
bool http_response_bodiless(int status, bool head_request);

/* ---- bodies ---- */

/* Reads a body framed as http_framing says, from successive input pieces. */
typedef struct http_body {
    http_body_kind kind;
    uint64_t remaining;   /* LENGTH: bytes still due; CHUNKED: of this chunk */
    uint64_t total;       /* body bytes delivered so far */
    uint64_t max;         /* body_max */
    uint32_t line_max;    /* chunk_line_max */
    uint32_t trailer_max; /* head_max */
    uint32_t line_len;    /* bytes of the current chunk-size / trailer line */
    uint32_t trailer_len; /* bytes of trailers so far */
    uint8_t state;        /* chunked decoder state */
    uint8_t digits;       /* significant hex digits of the chunk size */
    bool done;
} http_body;

/* Prepares b for a body of kind (content_length for HTTP_BODY_LENGTH);
 * lim NULL: defaults. NONE and LENGTH 0 are done at once. */
void http_body_init(http_body *b, http_body_kind kind, uint64_t content_length,
                    const http_limits *lim);
/* Consumes framing and body bytes from in[0..len) up to the end of the body:
 * returns the bytes consumed (>= 0) or -HTTP_E_...; *data gets the body
 * bytes found (a slice of in, possibly empty). At most one slice per call:
 * call again with the rest while the return is > 0 and the body is not
 * done. Bytes after the end of the body are not consumed. */
ssize_t http_body_feed(http_body *b, const char *in, size_t len, http_str *data);
/* The body ended (for CLOSE: never; the caller ends it at EOF). */
static inline bool http_body_done(const http_body *b) { return b->done; }

#endif
