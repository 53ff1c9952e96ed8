/*
 * main.c - the sprinklrfs binary: everything else lives in the core library.
 */
#include "mount.h"

int main(int argc, char *argv[])
{
	return mount_main(argc, argv);
}
