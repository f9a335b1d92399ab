/* main.c: the reeve command line (placeholder until the CLI lands). */
int main(void);
int main(void) { return 0; }
