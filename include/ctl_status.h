/* SPDX-License-Identifier: MIT */
#ifndef OKX_CTL_STATUS_H
#define OKX_CTL_STATUS_H

/* okx-faultctl status, watch and stop: a running drill asked over its
 * control socket (okx-faultctl(1); include/control.h). Each takes the
 * command's argv (argv[0] is the command) and returns okx-faultctl's exit
 * code. */

/* status [NAME] [--json]: 0 answered (or no drill runs), 1 the drill does
 * not run or could not be asked, 2 usage. */
int ctl_status(int argc, char **argv);

/* watch NAME: the drill's own exit code once it ended, CTL_WATCH_LOST when
 * it could not be watched to its end, 2 usage. */
#define CTL_WATCH_LOST 5
int ctl_watch(int argc, char **argv);

/* stop NAME: 0 the drill is stopping (its windows closed), 1 it does not
 * run or could not be asked, 2 usage. */
int ctl_stop(int argc, char **argv);

#endif
