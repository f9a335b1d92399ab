/* email.h: the email notifier (notifier_email in notify.h): MIME messages sent over SMTP. */
#ifndef REEVE_EMAIL_H
#define REEVE_EMAIL_H

#include "notify.h"

/* Firing alerts of one message that get an inline graph; the others get none. */
#define EMAIL_MAX_GRAPHS 3
/* Subjects longer than this (bytes of UTF-8) are cut, with "..." at the end. */
#define EMAIL_SUBJECT_MAX 250

/*
 * The colour ("#RRGGBB") a severity is shown in, in the alert mails and the reports' HTML:
 * red for critical (and unknown severities or NULL), orange for warning, blue for info.
 * Returns a static string.
 */
const char *email_severity_color(const char *sev);

/*
 * Free the TLS contexts kept for STARTTLS (one per CA file). Call once at exit, after every
 * delivery worker has stopped; a later send makes them again.
 */
void email_shutdown(void);

#endif /* REEVE_EMAIL_H */
