/*
 * The gsspeer subcommands. Each takes the arguments after its own name (argv[0] is the
 * subcommand name, as for getopt) and returns the process exit status.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

struct command {
    const char *name;
    const char *summary; /* one line for `gsspeer --help` */
    int (*run)(int argc, char **argv);
};

/* The table, terminated by an entry with a NULL name (defined in gsspeer.c). */
extern const struct command gsspeer_commands[];

#endif
