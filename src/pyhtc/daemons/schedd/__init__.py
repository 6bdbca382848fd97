"""The schedd: the job queue (SQLite), QMGMT, job actions, shadows and the user log."""
