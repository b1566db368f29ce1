"""target-billcom: reverse ETL into BILL."""
