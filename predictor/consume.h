/*
 * consume.h — reading the engagement streams in the consumer group.
 *
 * One XREADGROUP covers every launch whose policies are all live (none
 * rebuilding its window): while behind it is non-blocking and pipelined
 * (PRED_READS_PIPELINE in flight), once a read comes back with less than a
 * batch it blocks (--block-ms) on the connection reserved for reads. Before
 * reading new entries of a launch, the consumer's own pending entries
 * (delivered earlier and maybe never applied: a lost reply, a restart with
 * a fixed --consumer) are read from id 0. Every entry handed over is applied
 * to each live policy of its launch (skipped when not after what the policy
 * applied already) and then acknowledged, one XACK per reply.
 *
 * A reply with less than a batch for a launch means its stream has been read
 * up to the time the read was sent: the policies' stream clocks move to that
 * time minus --tick-delay, so quiet seconds are ticked too.
 *
 * Every --claim-interval an XAUTOCLAIM round takes over entries pending for
 * longer than --claim-idle with any consumer (a predictor that died, or an
 * acknowledgement of ours that was lost), applies and acknowledges them,
 * then deletes consumers idle as long that own nothing.
 *
 * With --no-ack the reads use NOACK: Redis keeps no pending-entries list
 * for them and nothing is acknowledged, which saves Redis most of its work
 * per entry. Nothing is lost by it: an entry handed over but not applied
 * before a crash is still in the stream, and the window rebuild on restart
 * applies it (an entry older than the window no longer counts anyway). What
 * is lost is the group's record of such entries, and with it the claims.
 *
 * A group that vanished (Redis restarted without its data) is created again
 * from id 0, so nothing appended since is missed.
 */
#ifndef LIFTOFF_PREDICTOR_CONSUME_H
#define LIFTOFF_PREDICTOR_CONSUME_H

typedef struct pred pred;
typedef struct pred_launch pred_launch;

/* Finds the launch of that name, creating it (and its group) if new; NULL
 * when PRED_LAUNCHES_MAX are in use. */
pred_launch *pred_launch_get(pred *p, const char *name);
/* Issues whatever reads can run now. */
void pred_consume_kick(pred *p);
/* One XAUTOCLAIM round on every launch. */
void pred_consume_claim(pred *p);
/* After a reconnect: groups may be gone, own pending entries must be read
 * again before new ones. */
void pred_consume_reset(pred *p);
/* Frees the launches (at shutdown, after the clients are gone). */
void pred_launches_free(pred *p);

#endif
