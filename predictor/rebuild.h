/*
 * rebuild.h — replaying a policy's window from the stream, so that a
 * restarted predictor counts exactly what an uninterrupted one counts.
 *
 * The replay starts at the stream id of (now - windowSeconds -
 * --rebuild-slack) and pages through XRANGE (COUNT --batch, each page
 * starting after the last id read) to the end of the stream, applying every
 * entry to the policy's fresh tracker in id order, ticking the seconds as
 * the live path would. Events older than the window cannot count, and an
 * event is never stored before it happened, so nothing that still counts is
 * left out (the slack covers clocks that disagree).
 *
 * The policy's seconds are ticked from the start of the replay on, whether
 * or not there is engagement, so the observed rate drives the reactive floor
 * from the start.
 *
 * The group reads of the launch are held while one of its policies
 * rebuilds; entries handed over by reads that were already in flight are
 * caught by paging on until the replay has reached the newest entry the
 * group delivered. From then on the policy applies group entries, skipping
 * every id the replay already applied: nothing is lost, nothing counted
 * twice. The entries are not acknowledged here (XRANGE reads outside the
 * group).
 */
#ifndef LIFTOFF_PREDICTOR_REBUILD_H
#define LIFTOFF_PREDICTOR_REBUILD_H

typedef struct pred pred;
typedef struct pred_policy pred_policy;

/* (Re)starts replaying the window of pol (its tracker is reset first). */
void pred_rebuild_start(pred_policy *pol);
/* Issues the next page of every rebuild that waits for one (after a
 * reconnect or a failed page). */
void pred_rebuild_kick(pred *p);

#endif
