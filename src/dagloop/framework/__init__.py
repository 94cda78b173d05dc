"""Framework pieces shared with Kedro projects: the hook contract."""
