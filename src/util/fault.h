/* Fault injection for tests of the plan executor: KUBEVET_FAULT=write:3 makes the third
 * atomic write fail (also rename:N, fsync:N; several separated by commas). Compiled in always,
 * inert without the variable. The variable is read in this one place. */
#ifndef VET_UTIL_FAULT_H
#define VET_UTIL_FAULT_H

typedef enum { VET_FAULT_WRITE, VET_FAULT_RENAME, VET_FAULT_FSYNC, VET_FAULT_NOPS } vet_fault_op;

/* Count one operation of kind op; 1 when this is the one KUBEVET_FAULT says must fail. */
int vet_fault_hit(vet_fault_op op);

#endif
