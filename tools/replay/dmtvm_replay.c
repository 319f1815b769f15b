/* SPDX-License-Identifier: MIT */
/* dmtvm_replay.c: standalone `dmtvm-replay`, the same as `dmtvm replay`. */
#include "replay.h"

int main(int argc, char **argv)
{
	return replay_main(argc, argv);
}
