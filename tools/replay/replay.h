/* SPDX-License-Identifier: MIT */
/*
 * replay.h: `dmtvm replay`, the MMU model on traces from anywhere (valgrind
 * lackey text or dmtvm binary traces), with a small simulated OS ("simos")
 * that builds real page tables, TEAs and EPTs as the trace goes.
 *
 * The dmtvm binary's main dispatches `dmtvm replay ARGS...` here with
 * argv[0] == "replay". Returns dmtvm's exit status: 0 ok, 1 usage or
 * environment error (cannot open file, out of memory), 2 malformed trace.
 */
#ifndef DMTVM_REPLAY_H
#define DMTVM_REPLAY_H

int replay_main(int argc, char **argv);

#endif /* DMTVM_REPLAY_H */
