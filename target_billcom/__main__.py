from target_billcom.target import TargetBillcom

TargetBillcom.cli()
