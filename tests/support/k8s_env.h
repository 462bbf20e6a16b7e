/*
 * k8s_env.h — the set-up the tests against the real kube-apiserver share:
 * a loop, a client from $KUBECONFIG, and a throwaway namespace to work in.
 *
 * kenv_down() deletes the namespace and frees the client, the name and the
 * loop. kenv_up() cleans up after itself when it returns false.
 */
#ifndef LIFTOFF_TEST_K8S_ENV_H
#define LIFTOFF_TEST_K8S_ENV_H

#include <stdbool.h>

#include "ev.h"
#include "k8s_client.h"

typedef struct kenv {
    ev_loop *loop;
    k8s_client *c;
    char *ns;        /* the namespace's name */
} kenv;

/* A loop, a client and a fresh namespace; with launchpolicy_crd, also the
 * LaunchPolicy CRD installed. false when the test cannot go on: the test
 * is then marked skipped (no $KUBECONFIG, no CRD) or failed (no namespace
 * could be created), and everything is freed again. */
bool kenv_up(kenv *e, bool launchpolicy_crd);

/* Deletes the namespace (and so everything in it) and frees the rest. */
void kenv_down(kenv *e);

#endif
