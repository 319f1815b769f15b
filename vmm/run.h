/* SPDX-License-Identifier: MIT */
/* run.h: the `dmtvm run` command. */
#ifndef VMM_RUN_H
#define VMM_RUN_H

int vmm_run_main(int argc, char **argv);

#endif
