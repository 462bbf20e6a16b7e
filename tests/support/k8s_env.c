/* k8s_env.c — a client and a throwaway namespace on the real
 * kube-apiserver for one test (see k8s_env.h). */
#include "k8s_env.h"

#include <stdlib.h>
#include <string.h>

#include "integration/test_k8s_helpers.h"
#include "test.h"

bool kenv_up(kenv *e, bool launchpolicy_crd)
{
    memset(e, 0, sizeof *e);
    e->loop = ev_loop_new();
    e->c = tk_client(e->loop);
    if (e->c) {
        e->ns = tk_namespace(e->loop, e->c);
        if (!e->ns) /* the API server is there: a failure, not a skip */
            test_fail(__FILE__, __LINE__, "a fresh namespace was created");
    }
    if (e->ns && (!launchpolicy_crd || tk_have_launchpolicy_crd(e->loop, e->c)))
        return true;
    kenv_down(e);
    return false;
}

void kenv_down(kenv *e)
{
    if (e->c) {
        tk_namespace_delete(e->loop, e->c, e->ns);
        k8s_client_free(e->c);
    }
    free(e->ns);
    ev_loop_free(e->loop);
    memset(e, 0, sizeof *e);
}
